# LLM Observatory. Go is the only prerequisite for `make run`; `make test`
# also uses the local PostgreSQL (TEST_DATABASE_URL) and gcc for -race.
GO            ?= go
BIN           ?= bin/observatory
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export TEST_DATABASE_URL

.PHONY: all build run demo test test-short vet fmt bench bench-gateway fuzz clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/observatory

## run: the embedded product (SQLite under ./data); then `make demo` in another shell
run: build
	$(BIN) run

demo: build
	$(BIN) demo

## test: what CI runs (.ci/run): vet, then every test with -race against real PostgreSQL
test: vet
	$(GO) test -race -timeout 20m ./...

test-short:
	$(GO) test -short ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: ingest throughput (OTLP → pipeline → SQLite / PostgreSQL) and storage writes
bench:
	$(GO) test -run '^$$' -bench 'Ingest' -benchtime 3x -timeout 20m ./e2e/
	$(GO) test -run '^$$' -bench 'WriteCalls' -benchtime 5x ./internal/storage/...

## bench-gateway: fixed-rate load (500/1000/2000 RPS) in alternating rounds:
## direct to a mock upstream, through a bare ReverseProxy, through the gateway
bench-gateway:
	$(GO) run ./gateway/bench -rates 500,1000,2000 -rounds 3 -duration 10s

## fuzz: a short run of every fuzz target (FUZZTIME=30s for longer)
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
