# The two commands: `make run` and `make test`. Everything they need is installed into .cache/.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# `$(use_venv) NAME... && COMMAND`: COMMAND finds the tools of .cache/venv-NAME first (scripts/lib.sh).
use_venv := source scripts/lib.sh && use_venv

.PHONY: help run test check invoke build deploy bench

help:
	@echo "make run     serve the function on http://127.0.0.1:9000 (PORT=... for another port) with DynamoDB Local"
	@echo "             on 127.0.0.1:8000, a local S3 (SeaweedFS) on 127.0.0.1:8333 and demo data"
	@echo "make test    formatting, clippy, unit and integration tests (start their own DynamoDB Local and S3)"
	@echo "make check   the fast inner loop: formatting, clippy and the unit tests, no services"
	@echo "make invoke EVENT=events/<name>.json [PORT=9000]   send a sample event to a running 'make run'"
	@echo "make build   release bootstrap for arm64 (cargo lambda build --release --arm64)"
	@echo "make bench   benchmarks (handler overhead, cold start, CPU path, size, memory) → BENCHMARKS.md"
	@echo "make deploy  sam build && sam deploy --guided (needs AWS credentials)"

run:
	@scripts/run.sh

test:
	@scripts/test.sh

check:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	cargo test --workspace --lib --quiet

# PORT, from the command line or the environment, as for `make run`.
invoke:
	@[ -n "$(EVENT)" ] || { echo "usage: make invoke EVENT=events/<name>.json [PORT=9000]" >&2; exit 2; }
	@scripts/install.sh lambda
	@$(use_venv) lambda && cargo lambda invoke connect-attachments \
	  --invoke-address 127.0.0.1 --invoke-port "$${PORT:-$$FUNCTION_PORT_DEFAULT}" --data-file "$(EVENT)"

build:
	@scripts/build.sh

# Needs AWS credentials; not part of the tests.
deploy:
	@scripts/install.sh lambda sam
	$(use_venv) lambda sam && SAM_CLI_TELEMETRY=0 SAM_CLI_BETA_RUST_CARGO_LAMBDA=1 sam build
	$(use_venv) sam && SAM_CLI_TELEMETRY=0 sam deploy --guided

bench:
	@scripts/bench.sh
