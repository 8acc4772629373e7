"""Routing with routes and included routers guarded by their path prefixes, and walked only
where a path's first segment can match, answers as FastAPI does: the same route, the same
405 with Allow, the same trailing-slash redirect, the same 404."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from app.route_prefilter import prefilter_routes


async def _mounted(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse(f"mounted {scope['path']}")(scope, receive, send)


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
    app.mount("/static/docs", _mounted)

    @app.get("/docs")
    async def docs() -> dict[str, str]:
        return {"router": "docs"}

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
        ("GET", "/bench/trivial/"),  # redirect to /bench/trivial
        ("POST", "/bench/trivial"),  # 405
        ("GET", "/docs"),
        ("GET", "/docs/"),  # redirect to /docs
        ("GET", "/docsx"),  # 404: begins like /docs, another first segment
        ("GET", "/static/docs/app.js"),  # the mount
        ("GET", "/static/docs"),  # redirect into the mount
        ("GET", "/v1"),
        ("GET", "/v1/"),
        ("GET", "/"),
        ("GET", "//v1/quotes/q1"),
    ],
)
async def test_guarded_routing_answers_as_fastapi_does(method: str, path: str) -> None:
    guarded = _app()
    prefilter_routes(guarded)

    assert await _answers(guarded, method, path) == await _answers(_app(), method, path)


async def test_a_request_reaches_a_route_registered_after_every_router() -> None:
    app = _app()
    prefilter_routes(app)

    assert await _answers(app, "GET", "/bench/trivial") == (200, '{"status":"ok"}', "")


async def test_routing_under_a_root_path_still_matches() -> None:
    app = _app()
    prefilter_routes(app)
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/api/v1/quotes/q1")

    assert response.json() == {"router": "quotes", "id": "q1"}


async def test_a_route_added_after_the_first_request_is_reached() -> None:
    app = _app()
    prefilter_routes(app)
    assert (await _answers(app, "GET", "/later"))[0] == 404

    @app.get("/later")
    async def later() -> dict[str, str]:
        return {"router": "later"}

    assert await _answers(app, "GET", "/later") == (200, '{"router":"later"}', "")
