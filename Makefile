# Sluice. `make demo` runs the embedded examples; `make test` is what CI runs.
GO ?= go
export GOFLAGS := -buildvcs=false
# The Go release Sluice is built and tested with: go1.26.8 (the machines'
# own) has reachable vulnerabilities in net/http, crypto/tls and
# crypto/x509 that go1.27.3 fixes (make vulncheck); the go command takes it
# from the module proxy (76 MB, once per machine). go.mod still accepts
# 1.26.8 for builds elsewhere.
export GOTOOLCHAIN ?= go1.27.3

.PHONY: build demo test tools conformance unit race fuzz deps-check test-k8s k8s-deps crds bench bench-compare bench-syscalls bench-flat bench-floor bench-ab bench-observe bench-smuggle soak soak-short vulncheck profile

build:
	$(GO) build -ldflags "-X main.version=$$(git describe --always --dirty 2>/dev/null || echo devel)" -o bin/sluice ./cmd/sluice

demo:
	$(GO) run ./cmd/sluice demo

# Everything CI checks: vet, import direction, unit + golden + differential
# + end-to-end (the real binary) tests, the race detector, a short fuzz pass,
# the tests against a real kube-apiserver, a two-minute soak with faults,
# and govulncheck.
test: deps-check tools unit race fuzz test-k8s soak-short vulncheck

# Tools the tests drive (h2load from nghttp2-client, the tinyproxy HTTP
# proxy, the microsocks SOCKS5 proxy, curl, openssl, testssl.sh, redis-server
# and redis-cli for the shared rate limit, node for the dashboard's live-chart script):
# installed with apt when missing,
# and then required (SLUICE_REQUIRE_TOOLS: a test fails rather than skips
# without them). h2spec comes from the Go module proxy, into TOOLS_CACHE.
export SLUICE_REQUIRE_TOOLS := 1
TOOLS := h2load:nghttp2-client tinyproxy:tinyproxy microsocks:microsocks curl:curl openssl:openssl testssl:testssl.sh redis-server:redis-server redis-cli:redis-tools node:nodejs
TOOLS_CACHE ?= $(HOME)/.cache/sluice-tools
# Let's Encrypt's test ACME server (and its DNS), for the certificate
# resolvers' tests; its test certificates come from its module source.
export PEBBLE_VERSION := v2.10.3
export SLUICE_H2SPEC := $(TOOLS_CACHE)/h2spec
export SLUICE_PEBBLE := $(TOOLS_CACHE)/pebble
export SLUICE_CHALLTESTSRV := $(TOOLS_CACHE)/pebble-challtestsrv
tools:
	@missing=""; for t in $(TOOLS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t##*:}"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	@test -x $(SLUICE_H2SPEC) || GOBIN=$(TOOLS_CACHE) $(GO) install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible
	@test -x $(SLUICE_PEBBLE) -a -x $(SLUICE_CHALLTESTSRV) || GOBIN=$(TOOLS_CACHE) $(GO) install \
		github.com/letsencrypt/pebble/v2/cmd/pebble@$(PEBBLE_VERSION) github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@$(PEBBLE_VERSION)

# The real-API-server tests: kube-apiserver and etcd are built from the Go
# module proxy on first use (about 5-7 minutes of 2 cores) and cached in
# K8S_CACHE; backends run in network namespaces, so this needs root.
K8S_CACHE ?= $(HOME)/.cache/apiserver-up
export SLUICE_K8S_CACHE := $(K8S_CACHE)
test-k8s: k8s-deps
	SLUICE_K8S=1 SLUICE_RACE=1 $(GO) test -count=1 -timeout 15m -run 'K8s' ./cmd/... ./watch/...

k8s-deps:
	@command -v ip >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null)
	@BUILD_ONLY=1 watch/kubetest/apiserver-up.sh "$(K8S_CACHE)" >/dev/null

# The Traefik oracle (not part of make test): the real Traefik v3.7, built
# from the Go module proxy on first use (several minutes, cached in
# ~/.cache/traefik-oracle), and Sluice against one real kube-apiserver,
# the same objects and requests compared (cmd/sluice/conformance*_test.go),
# and the shared rate limit's Redis script beside Traefik's (redis_test.go).
# The table goes to conformance-results.md.
conformance: k8s-deps
	SLUICE_CONFORMANCE=1 SLUICE_CONFORMANCE_OUT=$(CURDIR)/conformance-results.md \
		$(GO) test -count=1 -timeout 60m -run '^(TestConformance|TestConformanceAccessLog|TestRedisScriptMatchesTraefik)$$' -v ./cmd/sluice

# Regenerate deploy/crds from compile/model.
crds:
	$(GO) run ./deploy/crdgen

unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

race:
	$(GO) test -count=1 -race ./compile/... ./fastpath/... ./watch/...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParsePrintParse$$' -fuzztime 20s ./compile/rule
	$(GO) test -run '^$$' -fuzz '^FuzzParseV2Print$$' -fuzztime 10s ./compile/rule
	$(GO) test -run '^$$' -fuzz '^FuzzLookupMatchesLinearScan$$' -fuzztime 20s ./compile
	$(GO) test -run '^$$' -fuzz '^FuzzProxyRequest$$' -fuzztime 20s ./fastpath
	$(GO) test -run '^$$' -fuzz '^FuzzSniff$$' -fuzztime 20s ./fastpath
	$(GO) test -run '^$$' -fuzz '^FuzzTLSRequest$$' -fuzztime 10s ./fastpath
	$(GO) test -run '^$$' -fuzz '^FuzzH2CFrames$$' -fuzztime 10s ./fastpath
	$(GO) test -run '^$$' -fuzz '^FuzzConn$$' -fuzztime 20s ./fastpath/h2
	$(GO) test -run '^$$' -fuzz '^FuzzDecoder$$' -fuzztime 10s ./fastpath/h2
	$(GO) test -run '^$$' -fuzz '^FuzzManifests$$' -fuzztime 20s -fuzzminimizetime 2s ./compile
	$(GO) test -run '^$$' -fuzz '^FuzzPathMiddlewares$$' -fuzztime 15s ./fastpath/middleware
	$(GO) test -run '^$$' -fuzz '^FuzzMiddlewareRequest$$' -fuzztime 15s ./fastpath
	$(GO) test -run '^$$' -fuzz '^FuzzJWT$$' -fuzztime 10s ./fastpath/middleware
	$(GO) test -run '^$$' -fuzz '^FuzzRequestPath$$' -fuzztime 10s ./fastpath/accesslog
	$(GO) test -run '^$$' -fuzz '^FuzzAppendString$$' -fuzztime 10s ./fastpath/accesslog

# fastpath must never import the control plane.
deps-check:
	@bad=$$($(GO) list -deps ./fastpath/... | grep -E '^k8s\.io/|/sluice/compile($$|/)|/sluice/watch($$|/)' || true); \
	if [ -n "$$bad" ]; then echo "fastpath imports the control plane: $$bad"; exit 1; fi; echo "deps-check: ok"

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./compile ./fastpath

# Sluice, HAProxy and nginx side by side on loopback (about 30 minutes for
# every scenario; name scenarios to run fewer: make bench-compare S="r1 h10k-mid").
bench-compare:
	bench/compare.sh $(S)

# One proxy's syscalls, context switches and CPU per request, counted by the
# kernel: make bench-syscalls P=haproxy L=close (P: sluice|haproxy|nginx;
# L: keepalive|close|post1k|c1|c1000|rate).
P ?= sluice
L ?= keepalive
bench-syscalls:
	bench/syscalls.sh $(P) $(L)

# Flat with scale: each proxy's CPU per request at 1 route, at the middle
# host of 100k and spread over all 100k, interleaved round by round
# (bench/flat.sh; ROUNDS=5 N=100000 by default).
bench-flat:
	bench/flat.sh

# The floor: each proxy beside a relay that parses nothing (bench/cmd/floor,
# on epoll and on Go's net package), at 50 and 1,000 connections, interleaved
# (bench/floor.sh; ROUNDS=5 CONNS="50 1000" by default).
bench-floor:
	bench/floor.sh

# One Go benchmark at two commits, alternated in one run: PKG=... BENCH=... [BASE=HEAD~1].
bench-ab:
	bench/abbench.sh

# What metrics and access logs add per request, beside nginx's access log
# (bench/observe.sh; ROUNDS=5 by default).
bench-observe:
	bench/observe.sh

# The soak (cmd/sluice/soak*_test.go): mixed load through the binary with
# faults injected on a schedule, failures attributed, resources sampled.
# 30 minutes here (figures to soak-results.md); two in make test.
# TestK8sSoak is the same against a real kube-apiserver, which it also
# stops and starts (30 minutes in make soak, figures to
# soak-k8s-results.md; one in make test).
soak: k8s-deps
	SLUICE_SOAK=30m SLUICE_SOAK_OUT=$(CURDIR)/soak-results.md $(GO) test -count=1 -timeout 45m -run '^TestBinarySoak$$' -v ./cmd/sluice
	SLUICE_K8S=1 SLUICE_SOAK=30m SLUICE_SOAK_OUT=$(CURDIR)/soak-k8s-results.md $(GO) test -count=1 -timeout 45m -run '^TestK8sSoak$$' -v ./cmd/sluice

soak-short: k8s-deps
	SLUICE_SOAK=2m $(GO) test -count=1 -timeout 10m -run '^TestBinarySoak$$' ./cmd/sluice
	SLUICE_K8S=1 SLUICE_SOAK=1m $(GO) test -count=1 -timeout 10m -run '^TestK8sSoak$$' ./cmd/sluice

# govulncheck (golang.org/x/vuln) against a vulnerability database built
# from golang.org/x/vulndb's OSV files, both from the module proxy
# (vuln.go.dev is not reachable from these machines); .ci/vulngate fails
# on any vulnerable function the code calls. Bump VULNDB for newer reports.
VULNDB := v0.0.0-20261105234957-e22db6528018
vulncheck:
	rm -rf /tmp/sluice-vulndb
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB) -out /tmp/sluice-vulndb \
		-vulns "$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p')/data/osv"
	$(GO) run golang.org/x/vuln/cmd/govulncheck@v1.9.0 -db file:///tmp/sluice-vulndb -format json ./... > /tmp/sluice-vulncheck.json
	$(GO) run ./.ci/vulngate < /tmp/sluice-vulncheck.json

# The request-smuggling corpus against Sluice, HAProxy and nginx (bench/smuggle.sh).
bench-smuggle:
	bench/smuggle.sh

# Profiles under load (bench/profile.sh) and of the micro-benchmarks.
profile:
	bench/profile.sh
	$(GO) test -run '^$$' -bench 'Lookup|Compile|RouteSpread' -cpuprofile profiles/$$(date +%F)-lookup-compile-$$(git rev-parse --short HEAD).cpu.pprof ./compile
	$(GO) test -run '^$$' -bench ProxiedRequest -cpuprofile profiles/$$(date +%F)-proxied-request-$$(git rev-parse --short HEAD).cpu.pprof ./fastpath
