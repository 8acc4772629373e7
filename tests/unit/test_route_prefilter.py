"""Routing with included routers guarded by their path prefixes answers as FastAPI does:
the same route, the same 405 with Allow, the same trailing-slash redirect, the same 404."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from app.route_prefilter import prefilter_included_routers


def _app() -> FastAPI:
    app = FastAPI()
    for name in ("quotes", "orders", "mailboxes"):
        router = APIRouter()

        @router.get(f"/{name}/{{item_id}}")
        async def read(item_id: str, name: str = name) -> dict[str, str]:
            return {"router": name, "id": item_id}

        @router.post(f"/{name}")
        async def create(name: str = name) -> dict[str, str]:
            return {"router": name}

        app.include_router(router, prefix="/v1")
    # Overlapping prefixes: /v1/quotes/special must still reach this later router's route
    # before the earlier one's /v1/quotes/{item_id} only if FastAPI's order says so.
    late = APIRouter()

    @late.get("/quotes/special/{part}")
    async def special(part: str) -> dict[str, str]:
        return {"router": "late", "part": part}

    @late.get("/plans/")
    async def plans() -> dict[str, str]:
        return {"router": "plans"}

    app.include_router(late, prefix="/v1")

    @app.get("/bench/trivial")
    async def trivial() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _answers(app: FastAPI, method: str, path: str) -> tuple[int, str, str]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.request(method, path)
    return response.status_code, response.text, response.headers.get("allow", "")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/quotes/q1"),
        ("GET", "/v1/mailboxes/m1"),
        ("POST", "/v1/orders"),
        ("GET", "/v1/quotes/special/x"),  # the later router's route, after an earlier one's
        ("GET", "/v1/quotes/special"),  # the earlier router's {item_id}
        ("DELETE", "/v1/orders/o1"),  # 405 with Allow: GET
        ("GET", "/v1/orders"),  # 405 with Allow: POST
        ("GET", "/v1/plans"),  # redirect to /v1/plans/
        ("GET", "/v1/nothing"),  # 404
        ("GET", "/bench/trivial"),  # after every included router
    ],
)
async def test_guarded_routing_answers_as_fastapi_does(method: str, path: str) -> None:
    guarded = _app()
    prefilter_included_routers(guarded)

    assert await _answers(guarded, method, path) == await _answers(_app(), method, path)


async def test_a_request_reaches_a_route_registered_after_every_router() -> None:
    app = _app()
    prefilter_included_routers(app)

    assert await _answers(app, "GET", "/bench/trivial") == (200, '{"status":"ok"}', "")


async def test_routing_under_a_root_path_still_matches() -> None:
    app = _app()
    prefilter_included_routers(app)
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/api/v1/quotes/q1")

    assert response.json() == {"router": "quotes", "id": "q1"}
