# credbroker: `make demo` runs the product end to end, `make test` runs every
# check CI runs. Both install what they need first (see `make deps`).

GO ?= go
DEBIAN_PACKAGES := gnome-keyring dbus libsecret-tools oathtool awscli

.PHONY: all build demo test deps vet fmt-check

all: build

build:
	CGO_ENABLED=0 $(GO) build -o bin/credbroker ./cmd/credbroker

demo: deps build
	./scripts/demo.sh

test: deps vet fmt-check
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

# deps installs the Debian packages the tests use when any is missing
# (gnome-keyring under dbus-run-session for the secret-service keyring,
# oathtool to check TOTP codes, the AWS CLI v2 as a real client), and checks
# moto_server and boto3, which come with the machine image.
deps:
	@./scripts/deps.sh $(DEBIAN_PACKAGES)
