"""The framework's floor: a bare FastAPI app, one route, no middleware, nothing of ours.

uv run uvicorn bench.bare_app:create_bare_app --factory

`make bench` runs it in its own uvicorn process with the product's flags, so the product
app's GET /bench/trivial (the same JSON behind our middleware) compares with it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

TRIVIAL_PATH = "/bench/trivial"
TRIVIAL_BODY: dict[str, Any] = {"status": "ok", "service": "pec-renewal", "version": 1}


def create_bare_app() -> FastAPI:
    """FastAPI's defaults and the one route: what any FastAPI service pays per request."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get(TRIVIAL_PATH)
    async def trivial() -> dict[str, Any]:
        return TRIVIAL_BODY

    return app
