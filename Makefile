# Two commands do everything on a fresh machine: `make run` and `make test`.
# uv is installed with pip when it is missing.

UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
SOURCES := app tests bench migrations scripts

.PHONY: run test uv sync lint typecheck pytest openapi bench clean

run: sync
	$(UV) run python -m app.sandbox

test: sync lint typecheck pytest

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --quiet uv

sync: uv
	$(UV) sync --frozen

lint:
	$(UV) run ruff check $(SOURCES)
	$(UV) run ruff format --check $(SOURCES)

typecheck:
	$(UV) run mypy

pytest:
	$(UV) run pytest

openapi: sync
	$(UV) run python -m scripts.export_openapi

bench: sync
	$(UV) run python -m bench.quote
	$(UV) run python -m bench.orders

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache .hypothesis
