# stepworker: build, test and demo. See README.md and CONTRIBUTING.md.
SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=
# The shipped binary's build (make deb) and the one make bench measures: one line in
# scripts/release-flags, so both share .build-release without rebuilding each other's objects.
RELEASE_FLAGS := $(shell cat scripts/release-flags)

.PHONY: all deps test-deps build test demo bench bench-fleet clean vectors deb test-system test-chaos

all: build

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh test

build: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

# Builds everything (tests included) and runs every test. scripts/python-venv.sh puts awslambdaric
# (the warm-handler tests' Python runtime) in .build/venv; where it cannot, those tests are skipped
# and say why.
# The suites that run many real processes (the built daemon, warm Python runtimes, the chaos and
# power-cut drills, Prometheus) or push megabytes through this process (stderr floods, forged
# and sparse journals) run after the others rather than beside them, so on 2 cores they do not
# starve the tests that bound their own time or measure this process's memory.
HEAVY_TESTS = StepWorkerIntegrationTests|WarmHandlerTests|StderrFloodTests|WarmStderrFloodTests|JournalFormatLinearityTests|JournalOpeningTests
test: test-deps
	@scripts/python-venv.sh
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) --build-tests
	$(SWIFT) test $(SWIFT_BUILD_FLAGS) --skip-build --skip '$(HEAVY_TESTS)'
	$(SWIFT) test $(SWIFT_BUILD_FLAGS) --skip-build --filter '$(HEAVY_TESTS)'

# The crash drill of issue 14, long (docs/daemon.md, "What a crash can cost"): the real binary
# SIGKILLed 40 times during 3,000 tasks, and power cuts on powercut-fs (1,500 tasks, 20 cuts, both
# orders of durability); prints its counts and seed. `make test` runs short versions. Replay a
# run with STEPWORKER_CHAOS_SEED=N; size it with STEPWORKER_CHAOS_TASKS / STEPWORKER_CHAOS_KILLS.
test-chaos: test-deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) --build-tests
	STEPWORKER_CHAOS_LONG=1 $(SWIFT) test $(SWIFT_BUILD_FLAGS) --skip-build --filter 'ChaosTests|PowerCutTests'

# Runs the worker end to end against the bundled local endpoint. Needs no AWS account.
demo: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) --product stepworker
	scripts/demo.sh

# Benchmarks (DESIGN section 7, docs/benchmark.md): a release build of stepworker run against the
# local endpoint; prints throughput, per-task overhead, idle CPU/RSS and time to READY=1 next to
# issue 12's targets, and the same /bin/cat tasks through the typical boto3 worker
# (scripts/boto3-worker.py, boto3 from PyPI into .build/venv; skipped, saying why, without it).
bench: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product stepworker
	$(SWIFT) build $(RELEASE_FLAGS) --product stepworker-bench
	@scripts/python-venv.sh --bench
	.build-release/release/stepworker-bench --binary .build-release/release/stepworker $(BENCH_FLAGS)

# The fleet simulation (docs/fleet.md): 4 daemons x 2 activities x 16 pollers against one local
# endpoint with the quota scaled down (refill 20/s per API), in a matrix of bursts (120, 40) and
# heartbeat mixes (every 10th, every 3rd task), 2,000 tasks per cell, about 9 minutes; in the
# first cell also 4 typical boto3 workers (standard retries); boto3 comes from PyPI into
# .build/venv. FLEET_FLAGS=--single runs the first cell alone (the run before issue 32).
bench-fleet: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product stepworker
	@scripts/python-venv.sh --bench
	python3 scripts/bench-fleet.py --binary .build-release/release/stepworker --python .build/venv/bin/python $(FLEET_FLAGS)

# Regenerates the SigV4 test vectors with botocore (an independent implementation).
vectors:
	python3 scripts/make-sigv4-vectors.py > Tests/StepFunctionsTests/Fixtures/sigv4-vectors.json

# Builds dist/stepworker_<version>_<arch>.deb: a release build with the Swift standard library
# linked in (.build-release), packaged from packaging/deb/, checked with lintian (no errors).
deb: deps
	SWIFT="$(SWIFT)" scripts/build-deb.sh

# Installs the .deb in a booted Debian bookworm container (systemd-nspawn; the tree is cached in
# .build-system/) and drives the service with systemctl against the local endpoint. Needs root;
# exits 77 when this machine cannot boot a container (and says why), 1 when a step fails.
# (No `deps` prerequisite: on a machine that cannot run it, the script says so and skips.)
test-system:
	SWIFT="$(SWIFT)" scripts/test-system.sh

clean:
	rm -rf .build
