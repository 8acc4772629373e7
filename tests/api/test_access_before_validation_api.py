"""401 and 403 come before any validation of the request, on every route (api.md).

Walked over the app's own OpenAPI operations, so a route added later is covered without
a new test.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import httpx
import pytest

from app.main import create_app
from app.settings import Environment, Settings
from tests.api.helpers import assert_problem
from tests.conftest import CUSTOMER

# Answer anyone (health, the price list) or authenticate by signature (webhooks).
PUBLIC = {"healthz", "readyz", "metrics", "get_price_list", "receive_payment_webhook"}
MALFORMED = b'{"years": "many", "items": [,'


class Route(NamedTuple):
    operation_id: str
    method: str
    path: str


def _routes() -> list[Route]:
    app = create_app(Settings(environment=Environment.TEST, database_url="sqlite+aiosqlite://"))
    return [
        Route(operation["operationId"], method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
    ]


def _call(route: Route) -> tuple[str, str]:
    return route.method, re.sub(r"\{[^}]+\}", "x-1", route.path)


PROTECTED = [pytest.param(r, id=r.operation_id) for r in _routes() if r.operation_id not in PUBLIC]
ADMIN = [
    pytest.param(r, id=r.operation_id)
    for r in _routes()
    if r.operation_id not in PUBLIC and r.path.startswith("/v1/admin/")
]


def test_every_route_is_checked() -> None:
    assert len(PROTECTED) + len(PUBLIC) == len(_routes())
    assert len(ADMIN) >= 4


@pytest.mark.parametrize("route", PROTECTED)
async def test_a_malformed_request_without_a_token_is_a_401(
    client: httpx.AsyncClient, route: Route
) -> None:
    answer = await _send_malformed(
        client,
        route,
        {"Idempotency-Key": ""},
        params={"limit": "many", "cursor": "\x00"},
    )

    assert_problem(answer, 401, "not_authenticated")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("route", PROTECTED)
async def test_a_malformed_request_with_a_bad_token_is_a_401(
    client: httpx.AsyncClient, route: Route
) -> None:
    answer = await _send_malformed(client, route, {"Authorization": "Bearer not-a-jwt"})

    assert_problem(answer, 401, "invalid_token")


@pytest.mark.parametrize("route", ADMIN)
async def test_a_customer_malformed_request_on_an_admin_route_is_a_403(
    client: httpx.AsyncClient, route: Route
) -> None:
    answer = await _send_malformed(
        client, route, {**CUSTOMER, "Idempotency-Key": ""}, params={"limit": "many"}
    )

    assert_problem(answer, 403, "forbidden")


async def _send_malformed(
    client: httpx.AsyncClient,
    route: Route,
    headers: dict[str, str],
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """`route` called with a malformed JSON body (and bad parameters, where given)."""
    method, path = _call(route)
    return await client.request(
        method,
        path,
        content=MALFORMED,
        params=params,
        headers={"Content-Type": "application/json", **headers},
    )
