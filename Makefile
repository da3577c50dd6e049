# pigeonhole: make test (the test command), make run (the quick start),
# make gen (regenerate code from the IDLs), make bench. `make help` lists
# every target: the text after "##" on a target's line.
SHELL := /bin/bash
GO ?= go
PACKAGES := ./rpc-server/... ./http-server/... ./test/...

.PHONY: all help build test vet deps gen check-gen check-tidy check-deploy run bench fuzz clean

all: build

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' | \
	  while IFS=$$'\t' read -r target text; do printf '  make %-13s %s\n' "$$target" "$$text"; done

# -buildvcs=true: in a workspace, Go stamps the VCS revision (which
# --version prints) only when asked.
build: ## build bin/rpc-server and bin/http-server
	$(GO) build -buildvcs=true -o bin/rpc-server ./rpc-server
	$(GO) build -buildvcs=true -o bin/http-server ./http-server

deps: ## install the Debian packages the tests need (mariadb-server, etcd-server) when missing
	@scripts/install-deps.sh

vet: ## go vet and a gofmt check of every module
	$(GO) vet $(PACKAGES)
	@unformatted=$$(gofmt -l rpc-server http-server test | grep -v -e kitex_gen/ -e /pb/ || true); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

# The README's test command: every module, with the race detector, against
# the embedded store and a real MariaDB (started by the tests themselves).
test: deps vet ## every test of every module with -race, on the embedded store, MariaDB, etcd and chromium
	PIGEONHOLE_REQUIRE_MYSQL=1 PIGEONHOLE_REQUIRE_ETCD=1 PIGEONHOLE_REQUIRE_BROWSER=1 $(GO) test -race -count=1 -timeout 20m $(PACKAGES)

gen: ## regenerate the Kitex and protobuf code from the IDLs
	scripts/gen.sh

# Fails when the committed generated code differs from a fresh generation.
check-gen: gen ## fail when the committed generated code is stale
	@git diff --exit-code -- rpc-server/kitex_gen http-server/pb || \
	  { echo "generated code is stale: run make gen and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- rpc-server/kitex_gen http-server/pb)" || \
	  { echo "generated code has untracked files: run make gen and commit"; exit 1; }

# Each module stands on its own, not only through go.work: in each,
# go mod tidy (GOWORK=off) would change nothing — every import resolves
# from the module's own go.mod (siblings by replace), direct dependencies
# are not marked indirect, go.sum is complete — and the module builds.
# It reads modules through the module proxy only, and writes no file.
MODULES := rpc-server http-server test
check-tidy: ## fail unless every module is tidy and builds on its own (GOWORK=off)
	@for m in $(MODULES); do \
	  (cd $$m && GOWORK=off $(GO) mod tidy -diff) || \
	    { echo "check-tidy: $$m is not tidy: run (cd $$m && GOWORK=off go mod tidy) and commit"; exit 1; }; \
	  (cd $$m && GOWORK=off $(GO) build ./...) || \
	    { echo "check-tidy: $$m does not build on its own (GOWORK=off)"; exit 1; }; \
	done

# Validates docker-compose.yml, the GitHub workflows, the Kubernetes
# manifests and the static builds the images make; needs no Docker engine.
check-deploy: ## validate docker-compose.yml, the workflows and the Kubernetes manifests offline
	@scripts/install-deps.sh deploy || echo "check-deploy: could not install docker-compose; its check will be skipped" >&2
	deploy/check.sh

# The README's quick start: builds both servers into bin/, runs them (the
# embedded store in ./data, or MySQL when PIGEONHOLE_MYSQL is set) until
# Ctrl-C. See scripts/run.sh for the settings it passes through.
run: ## the quick start: build and run both servers until Ctrl-C
	scripts/run.sh

# Short runs of every fuzz target (their seed corpora also run in make test).
fuzz: ## short runs of every fuzz target
	cd rpc-server && $(GO) test -run '^$$' -fuzz '^FuzzParseChatID$$' -fuzztime 20s ./pigeonhole
	cd rpc-server && $(GO) test -run '^$$' -fuzz '^FuzzSendRequestValidate$$' -fuzztime 20s ./pigeonhole
	cd rpc-server && $(GO) test -run '^$$' -fuzz '^FuzzValidateMemberID$$' -fuzztime 20s ./pigeonhole
	cd http-server && $(GO) test -run '^$$' -fuzz '^FuzzAppendString$$' -fuzztime 20s ./gateway
	cd http-server && $(GO) test -run '^$$' -fuzz '^FuzzAppendPullResponse$$' -fuzztime 20s ./gateway
	cd http-server && $(GO) test -run '^$$' -fuzz '^FuzzCheckFraming$$' -fuzztime 20s ./gateway
	cd http-server && $(GO) test -run '^$$' -fuzz '^FuzzBindJSON$$' -fuzztime 20s ./gateway
	cd http-server && $(GO) test -run '^$$' -fuzz '^FuzzFlatJSON$$' -fuzztime 20s ./gateway
	cd http-server && $(GO) test -run '^$$' -fuzz '^FuzzBindForm$$' -fuzztime 20s ./gateway
	cd http-server && $(GO) test -run '^$$' -fuzz '^FuzzBindQuery$$' -fuzztime 20s ./gateway
	cd http-server && $(GO) test -run '^$$' -fuzz '^FuzzBindProtobuf$$' -fuzztime 20s ./gateway
	cd http-server && $(GO) test -run '^$$' -fuzz '^FuzzBindMultipart$$' -fuzztime 20s ./gateway
	cd rpc-server && $(GO) test -run '^$$' -fuzz '^FuzzQuote$$' -fuzztime 20s ./pigeonhole
	cd test && $(GO) test -run '^$$' -fuzz '^FuzzValidJSON$$' -fuzztime 20s ./bench/internal/load

# A bounded load benchmark (about eight minutes): builds and starts the real
# servers on the embedded store and on a throwaway MariaDB, runs each load
# scenario 3 times and writes the medians to docs/benchmarks.md, with plots
# in docs/benchmarks.html and every run's figures in docs/benchmarks-raw/.
bench: deps ## the load benchmark (about eight minutes), written to docs/benchmarks.md
	$(GO) run ./test/bench/suite --out docs

clean: ## remove bin/
	rm -rf bin
