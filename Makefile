# stepworker: build, test and demo. See README.md and CONTRIBUTING.md.
SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=

.PHONY: all deps build test demo bench clean vectors

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

# Builds everything (tests included) and runs every test.
test: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) --build-tests
	$(SWIFT) test $(SWIFT_BUILD_FLAGS) --skip-build

# Runs the worker end to end against the bundled local endpoint. Needs no AWS account.
demo: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) --product stepworker
	scripts/demo.sh

# Benchmarks (DESIGN section 7, docs/benchmark.md): a release build of stepworker run against the
# local endpoint; prints throughput, per-task overhead, idle CPU/RSS and time to READY=1.
bench: deps
	$(SWIFT) build -c release --scratch-path .build-release --product stepworker
	$(SWIFT) build -c release --scratch-path .build-release --product stepworker-bench
	.build-release/release/stepworker-bench --binary .build-release/release/stepworker $(BENCH_FLAGS)

# Regenerates the SigV4 test vectors with botocore (an independent implementation).
vectors:
	python3 scripts/make-sigv4-vectors.py > Tests/StepFunctionsTests/Fixtures/sigv4-vectors.json

clean:
	rm -rf .build
