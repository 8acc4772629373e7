# Two commands do everything on a fresh machine: `make run` and `make test`.
# scripts/uv.sh installs uv first when the machine has none.

UV := sh scripts/uv.sh
SOURCES := app tests bench migrations scripts

.PHONY: run test sync lint typecheck pytest openapi error-codes bench clean

run: sync  # make run PORT=8080 HOST=0.0.0.0
	$(UV) run python -m app.sandbox --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),8000)

test: sync lint typecheck pytest

sync:
	$(UV) sync --frozen

lint:
	$(UV) run ruff check $(SOURCES)
	$(UV) run ruff format --check $(SOURCES)

typecheck:
	$(UV) run mypy

# In parallel (pytest-xdist): PYTEST_WORKERS processes, each on its own throwaway database.
# `make pytest PYTEST_WORKERS=0` runs in one process; `pytest tests/x.py` stays serial.
# Bytecode is written even where PYTHONDONTWRITEBYTECODE is set: otherwise every test
# process (each worker, each CLI or sandbox subprocess) compiles every module it imports
# again, and pytest rewrites the asserts of its plugins' whole packages (schemathesis,
# hypothesis, anyio: some 260 modules) again. __pycache__ is ignored by git.
PYTEST_WORKERS ?= 3
pytest:
	PYTHONDONTWRITEBYTECODE= $(UV) run pytest -n $(PYTEST_WORKERS) --dist load

# The contract fuzz (tests/api/test_openapi_fuzz_api.py) at length: every phase for every
# role, FUZZ_MAX_EXAMPLES examples per operation (`make test` runs a few).
.PHONY: fuzz
fuzz: sync
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-100} $(UV) run pytest tests/api/test_openapi_fuzz_api.py -q

openapi: sync
	$(UV) run python -m scripts.export_openapi

# The TypeScript client's types, regenerated from the contract (commit both files).
.PHONY: client
client: openapi
	cd clients/typescript && { test -d node_modules || npm ci --no-audit --no-fund; } && npm run generate

error-codes: sync
	$(UV) run python -m scripts.export_error_codes

# Every target of the performance spec beside its measurement, in one run (docs/benchmarks.md).
# Installs wrk (Debian's package) where missing. `make bench BENCH_ARGS=--quick` for a short run.
bench: sync
	sh scripts/ensure_wrk.sh
	$(UV) run python -m bench $(BENCH_ARGS)

clean:
	rm -rf var .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Two api processes and two workers on one throwaway database: 2,000 orders paid by
# webhooks, each applied once, each outbox message delivered once (docs/scaling.md).
# `make scale SCALE_ARGS="--orders 500"`; `make test` runs it with 150 orders. Bytecode is
# written, as for pytest: the four processes would otherwise each compile the app again.
.PHONY: scale
scale: sync
	PYTHONDONTWRITEBYTECODE= $(UV) run python -m bench.scale $(SCALE_ARGS)
