# natsd: every target works on all modules listed in go.work.
GO      ?= go
MODULES := $(shell $(GO) list -m -f '{{.Dir}}' | sed "s|^$(CURDIR)/||")
# Packages where goroutines share state: run under the race detector.
RACE_PKGS ?= $(shell for m in server websocket cluster jetstream monitor auth cmd; do [ -d $$m ] && echo ./$$m/...; done)
FUZZTIME ?= 5s
BENCHTIME ?= 1s

.PHONY: all build test fmtcheck vet crossbuild unit race bench fuzz tidy clean

all: build

build:
	@mkdir -p bin
	$(GO) build -o bin/ ./cmd/nats-server $(wildcard ./cmd/mkpasswd)

test: fmtcheck vet crossbuild unit race

fmtcheck:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet work

# Every module, tests included, and the binary must build for Windows
# (the service, the event log): checked here since CI runs on Linux.
CROSS_GOOS ?= windows
crossbuild:
	@for os in $(CROSS_GOOS); do \
		echo "== GOOS=$$os"; \
		GOOS=$$os $(GO) build work || exit 1; \
		GOOS=$$os $(GO) vet work || exit 1; \
		GOOS=$$os $(GO) build -o /dev/null ./cmd/nats-server || exit 1; \
	done

unit:
	$(GO) test -count=1 -timeout 15m work

race:
	@for p in $(RACE_PKGS); do \
		(cd $$(dirname $$(dirname $$p/x)) && $(GO) test -race -count=1 -short -timeout 10m ./...) || exit 1; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) work

# Each fuzz target for FUZZTIME; -fuzz takes one package and one target per run.
fuzz:
	@for m in $(MODULES); do \
		for pkg in $$(cd $$m && $(GO) list ./...); do \
			dir=$$(cd $$m && $(GO) list -f '{{.Dir}}' $$pkg); \
			for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
				echo "== $$pkg $$f"; \
				(cd $$dir && $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) .) || exit 1; \
			done; \
		done; \
	done

tidy:
	@for m in $(MODULES); do (cd $$m && $(GO) mod tidy) || exit 1; done
	$(GO) work sync

clean:
	rm -rf bin
