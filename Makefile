# stepworker: build, test and demo. See README.md and CONTRIBUTING.md.
SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=

.PHONY: all deps build test demo bench clean vectors deb test-system

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

# Builds everything (tests included) and runs every test. scripts/python-venv.sh puts awslambdaric
# (the warm-handler tests' Python runtime) in .build/venv; where it cannot, those tests are skipped
# and say why.
test: deps
	@scripts/python-venv.sh
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) --build-tests
	$(SWIFT) test $(SWIFT_BUILD_FLAGS) --skip-build

# Runs the worker end to end against the bundled local endpoint. Needs no AWS account.
demo: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) --product stepworker
	scripts/demo.sh

# Benchmarks (DESIGN section 7, docs/benchmark.md): a release build of stepworker run against the
# local endpoint; prints throughput, per-task overhead, idle CPU/RSS and time to READY=1.
bench: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product stepworker
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release --product stepworker-bench
	@scripts/python-venv.sh --bench
	.build-release/release/stepworker-bench --binary .build-release/release/stepworker $(BENCH_FLAGS)

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
