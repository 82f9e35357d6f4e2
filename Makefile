# farmwatch — build, run and test. `make run` scans this machine; `make test`
# runs everything (unit, fixture and end-to-end tests with real software).
SHELL := /bin/bash
GO ?= go
MODULE := github.com/farmwatch/farmwatch
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
LDFLAGS := -s -w -X $(MODULE)/internal/version.Version=$(VERSION)
BUILDFLAGS := -trimpath -buildvcs=false -ldflags '$(LDFLAGS)'
export CGO_ENABLED ?= 0

# Tests read the shared research data and public captures from ../shared.
SHARED ?= $(abspath ../shared)
ifneq ($(wildcard $(SHARED)/README.md),)
export FARMWATCH_SHARED := $(SHARED)
endif

BINARIES := farmwatch-agent farmwatch-collector
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
DEB_PACKAGES := $(shell grep -v '^\s*\#' .ci/debian-packages.txt | xargs)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 10s

.PHONY: all build run test test-unit deps lab bench bench-agent bench-live fuzz lint cross package clean

all: build

build:
	@mkdir -p bin
	$(GO) build $(BUILDFLAGS) -o bin/farmwatch-agent ./cmd/agent
	$(GO) build $(BUILDFLAGS) -o bin/farmwatch-collector ./cmd/collector

run: build
	./bin/farmwatch-agent scan

# deps installs the Debian packages the end-to-end tests drive (root only).
deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done | xargs); \
		if [ -n "$$missing" ]; then \
			echo "make deps: installing Debian packages for end-to-end tests: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else echo "make deps: Debian packages already installed: $(DEB_PACKAGES)"; fi; \
		echo "make deps: real binaries the identity tests read (scripts/zoo/identity-install.sh, cached)"; \
		scripts/zoo/identity-install.sh; \
	else echo "make deps: not root; end-to-end tests need: $(DEB_PACKAGES) and scripts/zoo/identity-install.sh"; fi

# test runs every test. FARMWATCH_E2E=1 makes missing real software a test
# failure instead of a skip; a throw-away PostgreSQL on loopback serves the
# collector's storage tests. The clean-machine check runs first, alone:
# once the packages run side by side, their real remote-access software is
# on the machine.
CLEAN_MACHINE := TestAAACleanMachineHasNoMediumFindings
test: deps build
	@[ -n "$$FARMWATCH_SHARED" ] || echo "make test: ../shared not found; tests that need the shared data will fail saying so (FARMWATCH_E2E=1)"
	@set -e; pgdsn=""; \
	if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		pgdsn=$$(scripts/test-postgres.sh start); trap 'scripts/test-postgres.sh stop' EXIT; \
		echo "make test: PostgreSQL for storage tests at $$pgdsn"; fi; \
	export CGO_ENABLED=1 FARMWATCH_E2E=1 FARMWATCH_TEST_POSTGRES=$$pgdsn \
	FARMWATCH_AGENT_BIN=$(CURDIR)/bin/farmwatch-agent FARMWATCH_COLLECTOR_BIN=$(CURDIR)/bin/farmwatch-collector; \
	$(GO) test -race -count=1 -run '^$(CLEAN_MACHINE)$$' ./test/e2e; \
	$(GO) test -race -count=1 -timeout 45m -skip '^$(CLEAN_MACHINE)$$' ./...

# lab boots Debian's kernel under QEMU with the agent as /init and IP-KVM USB
# gadgets on dummy_hcd (lab/kvm-gadget); `make test` runs it too.
lab: deps build
	FARMWATCH_E2E=1 FARMWATCH_AGENT_BIN=$(CURDIR)/bin/farmwatch-agent \
	$(GO) test -count=1 -run '^TestLabKVMGadgets$$' -v ./test/e2e

# test-unit skips the end-to-end suite's software requirements (no root needed).
test-unit:
	$(GO) test -count=1 ./...

# bench runs every Go benchmark, then the traffic engine side by side with
# tshark on a ≥ 70 MB mixed capture built from the shared corpus.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...
	@if command -v tshark >/dev/null && [ -n "$$FARMWATCH_SHARED" ]; then \
		FARMWATCH_TSHARK=1 $(GO) test -count=1 -run '^TestCompareTshark$$' -v ./internal/detect/network | grep -v '^=== RUN'; \
	else echo "make bench: tshark comparison skipped (needs tshark and ../shared)"; fi

# bench-agent measures the running agent's idle RSS and CPU (DURATION seconds).
bench-agent: build
	DURATION=$${DURATION:-180} scripts/bench-agent.sh bin/farmwatch-agent

# bench-live measures the live capture under iperf3 downloads in network
# namespaces (root): CPU % of one core, peak RSS, packets, kernel drops and
# budget pauses at idle, 200 Mbit/s, 1 Gbit/s TCP with and without offloads
# and 50 Mbit/s UDP (DURATION seconds per phase, REPEAT rounds).
bench-live: build
	scripts/bench-live.sh bin/farmwatch-agent

# fuzz runs every fuzz target for FUZZTIME.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
		for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
			echo "fuzz $$pkg $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 50x $$pkg; \
		done; \
	done

lint:
	$(GO) mod tidy -diff
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...
	GOBIN=$(CURDIR)/bin/tools $(GO) install $(STATICCHECK)
	bin/tools/staticcheck ./...
	# Other OSes: code used only on the host OS looks unused there.
	GOOS=windows bin/tools/staticcheck -checks inherit,-U1000 ./...
	GOOS=darwin bin/tools/staticcheck -checks inherit,-U1000 ./...

cross:
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		for b in $(BINARIES); do \
			echo "build $$os/$$arch $$b"; \
			GOOS=$$os GOARCH=$$arch $(GO) build $(BUILDFLAGS) -o dist/$$os-$$arch/$$b$$ext ./cmd/$${b#farmwatch-}; \
		done; \
	done

# package builds .deb/.rpm (nfpm), .msi (wixl), macOS .pkg (tools/mkpkg) and the
# .mobileconfig into dist/packages; SIGN_CERT/SIGN_KEY sign the .exe and .msi.
package: cross
	packaging/build.sh $(VERSION) dist/packages

clean:
	rm -rf bin dist
