# The two commands: `make run` and `make test`. Everything they need is installed into .cache/.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help run test invoke build deploy bench

help:
	@echo "make run     serve the function on http://127.0.0.1:9000 with DynamoDB Local and demo data"
	@echo "make test    formatting, clippy, unit and integration tests (starts its own DynamoDB Local)"
	@echo "make invoke EVENT=events/<name>.json   send a sample event to a running 'make run'"
	@echo "make build   release bootstrap for arm64 (cargo lambda build --release --arm64)"
	@echo "make bench   benchmarks (handler overhead, cold start, CPU path, size, memory) → BENCHMARKS.md"
	@echo "make deploy  sam build && sam deploy --guided (needs AWS credentials)"

run:
	@scripts/run.sh

test:
	@scripts/test.sh

invoke:
	@scripts/install.sh lambda
	@PATH="$(CURDIR)/.cache/venv-lambda/bin:$$PATH" cargo lambda invoke complete-attachment-upload \
	  --invoke-address 127.0.0.1 --invoke-port 9000 --data-file "$(EVENT)"

build:
	@scripts/build.sh

# Needs AWS credentials; not part of the tests.
deploy:
	@scripts/install.sh lambda sam
	PATH="$(CURDIR)/.cache/venv-lambda/bin:$(CURDIR)/.cache/venv-sam/bin:$$PATH" SAM_CLI_TELEMETRY=0 \
	  SAM_CLI_BETA_RUST_CARGO_LAMBDA=1 sam build
	PATH="$(CURDIR)/.cache/venv-sam/bin:$$PATH" SAM_CLI_TELEMETRY=0 sam deploy --guided

bench:
	@scripts/bench.sh
