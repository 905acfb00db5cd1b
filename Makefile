# credbroker: `make demo` runs the product end to end, `make test` runs every
# check CI runs. Both install what they need first (see `make deps`).

GO ?= go
DEBIAN_PACKAGES := gnome-keyring dbus libsecret-tools oathtool awscli systemd pass bash-completion curl

.PHONY: all build demo test deps vet fmt-check lint cross bench

all: build

# Two programs: credbroker (small: answers a warm credential_process) and
# credbroker-cli (everything else), installed side by side.
build:
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/credbroker ./cmd/credbroker-cli

# demo runs the whole product on the embedded STS (no AWS account, no
# moto, no Python; the AWS CLI only when installed).
demo: build
	./bin/credbroker demo

# The CLI's scenarios spend most of their time waiting for the next 30 s
# TOTP step, not on a core: four run at a time, and the package takes
# longer than go test's default 10 minutes.
test: deps vet fmt-check lint cross
	$(GO) test -race -count=1 -timeout 30m -parallel 4 ./...

# bench measures the performance targets stated in bench/doc.go on this
# machine (a few minutes; moto_server on loopback, everything in a
# temporary folder). It is not part of test.
bench: build
	$(GO) run ./bench

# cross builds every package for macOS and Windows (the service manager,
# the keyrings and the socket peer credentials differ per OS): a Linux-only
# test run would not notice a break there. The binaries go to a temporary
# folder and are thrown away.
CROSS_TARGETS := darwin/amd64 darwin/arm64 windows/amd64

cross:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	for t in $(CROSS_TARGETS); do \
		echo "cross: go build $$t"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 $(GO) build -o "$$tmp/" ./... || exit 1; \
	done

vet:
	$(GO) vet ./...

# lint runs staticcheck, pinned by the tool line in go.mod.
lint:
	$(GO) tool staticcheck ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

# deps installs the Debian packages the tests use when any is missing
# (gnome-keyring under dbus-run-session for the secret-service keyring,
# oathtool to check TOTP codes, the AWS CLI v2 as a real client), and checks
# moto_server and boto3, which come with the machine image.
deps:
	@./scripts/deps.sh $(DEBIAN_PACKAGES)
