# Everyday tasks for svcgen's own development. The README's first lines need none of them.
.PHONY: build test test-short services matrix examples vulncheck bench lint

build:
	go build -o svcgen ./cmd/svcgen

test: ## everything; starts PostgreSQL and Redis for the integration tests
	eval "$$(scripts/services.sh)" && go test -timeout 40m ./...

test-short: ## unit tests only, no generated-service builds
	go test -short ./...

matrix: ## all 96 stack combinations
	scripts/matrix.sh

examples: ## regenerate examples/ from examples/*.yaml
	go test ./e2e -run '^TestExamples$$' -update -count=1 -timeout 30m

vulncheck: ## govulncheck on full-stack Gin and Echo services, offline DB
	scripts/vulncheck.sh

bench:
	go test ./generator -run '^$$' -bench . -benchmem
	scripts/bench-generate.sh

lint:
	gofmt -l . | grep -v '^examples/' ; go vet ./...
