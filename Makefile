# stepworker: build, test and demo. See README.md and CONTRIBUTING.md.
SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=

.PHONY: all deps build test demo clean vectors deb

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

# Regenerates the SigV4 test vectors with botocore (an independent implementation).
vectors:
	python3 scripts/make-sigv4-vectors.py > Tests/StepFunctionsTests/Fixtures/sigv4-vectors.json

# Builds dist/stepworker_<version>_<arch>.deb: a release build with the Swift standard library
# linked in (.build-release), packaged from packaging/deb/, checked with lintian (no errors).
deb: deps
	SWIFT="$(SWIFT)" scripts/build-deb.sh

clean:
	rm -rf .build
