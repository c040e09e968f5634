# The two commands of the README. Both fetch the prebuilt DuckDB library first
# (scripts/setup-duckdb.sh, idempotent).

.PHONY: quickstart test bench lint duckdb browser-deps test-deps

duckdb:
	@./scripts/setup-duckdb.sh

## Build and run the main job: demo portfolio -> store (./coco-data) -> portfolio summary.
quickstart: duckdb
	cargo build --release -p coco-cli
	./target/release/coco quickstart --serve 127.0.0.1:8080

## The npm side of the browser tests (playwright-core; Chromium itself comes from apt).
browser-deps:
	@test -d crates/coco-server/tests/browser/node_modules/playwright-core || \
		npm ci --prefix crates/coco-server/tests/browser --no-audit --no-fund

## The Python peers of the tests, in a venv under target/: aiosmtpd, the real SMTP
## server the notifier tests deliver to (crates/coco-actions/tests/support/smtp_sink.py).
test-deps:
	@target/pyenv/bin/python -c 'import aiosmtpd' >/dev/null 2>&1 || { \
		python3 -m venv --clear target/pyenv && \
		target/pyenv/bin/pip install --quiet --disable-pip-version-check aiosmtpd==1.4.6; }

## Every test of the workspace (unit, integration on real DuckDB files, CLI end to end,
## the dashboard in headless Chromium).
## The PPTX test needs LibreOffice Impress (`soffice` on PATH; Debian: libreoffice-impress,
## which .ci/run installs): it converts a deck to PDF to prove the file opens.
test: duckdb browser-deps test-deps
	cargo test --workspace

## Formatting and lints, as CI runs them.
lint: duckdb
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## Ingest and demo-generator benchmarks; rewrites the numbers in docs/PERFORMANCE.md.
bench: duckdb
	cargo run --release -p coco-bench -- run --write docs/PERFORMANCE.md
