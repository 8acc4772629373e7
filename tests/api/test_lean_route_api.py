"""A LeanRoute answers every request exactly as FastAPI's own handler does: twin routes of
one endpoint (one lean, one plain) get the same requests, good and bad, and must give the
same status, headers that matter, and body."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.auth import issue_dev_token
from app.container import Container
from app.domain.access import Role
from app.routers.deps import CallerDep, IdempotencyKeyDep
from app.routers.lean_route import LeanRoute, _plan
from app.routers.problems import install_problem_handlers
from app.routers.v1 import orders, quotes, webhooks
from tests.conftest import CUSTOMER, TEST_SECRET


class Payload(BaseModel):
    years: int = Field(ge=1, le=5)
    note: str


async def echo(
    body: Payload,
    caller: CallerDep,
    kind: Annotated[str, Path(pattern="^[a-z]+$")],
    idempotency_key: IdempotencyKeyDep = None,
    x_note: Annotated[str | None, Header(max_length=5)] = None,  # sent as X-Note
) -> JSONResponse:
    return JSONResponse(
        {
            "kind": kind,
            "note_header": x_note,
            "years": body.years,
            "note": body.note,
            "who": caller.principal.subject,
            "role": caller.principal.role.value,
            "language": caller.language,
            "key": idempotency_key,
        }
    )


def twin_app(container: Container) -> FastAPI:
    app = FastAPI()
    app.state.container = container
    install_problem_handlers(app)
    lean = APIRouter(route_class=LeanRoute)
    lean.post("/lean/{kind}")(echo)
    plain = APIRouter()
    plain.post("/plain/{kind}")(echo)
    app.include_router(lean)
    app.include_router(plain)
    return app


def fresh_token(**more: Any) -> str:
    """A token never seen before: the lean route must hand it to FastAPI's get_caller."""
    return issue_dev_token(TEST_SECRET, Role.PARTNER, "ptn-1", now=datetime.now(UTC), **more)


GOOD = json.dumps({"years": 2, "note": "caffè"}).encode()
JSON = {"Content-Type": "application/json"}
CASES: dict[str, tuple[dict[str, str], bytes, str]] = {
    "known token": ({**CUSTOMER, **JSON}, GOOD, "a"),
    "known token, English": ({**CUSTOMER, **JSON, "Accept-Language": "en-GB,en;q=0.8"}, GOOD, "a"),
    "known token, key": ({**CUSTOMER, **JSON, "Idempotency-Key": "k-1"}, GOOD, "a"),
    "key with a leading space": ({**CUSTOMER, **JSON, "Idempotency-Key": " k"}, GOOD, "a"),
    "key too long": ({**CUSTOMER, **JSON, "Idempotency-Key": "k" * 256}, GOOD, "a"),
    "charset": ({**CUSTOMER, "Content-Type": "application/json; charset=utf-8"}, GOOD, "a"),
    "problem+json body": ({**CUSTOMER, "Content-Type": "application/merge-patch+json"}, GOOD, "a"),
    "text/plain": ({**CUSTOMER, "Content-Type": "text/plain"}, GOOD, "a"),
    "no content type": (CUSTOMER, GOOD, "a"),
    "empty body": ({**CUSTOMER, **JSON}, b"", "a"),
    "null body": ({**CUSTOMER, **JSON}, b"null", "a"),
    "bad JSON": ({**CUSTOMER, **JSON}, b'{"years": 2,', "a"),
    "deep nesting": ({**CUSTOMER, **JSON}, b"[" * 100_000 + b"]" * 100_000, "a"),
    "invalid field": ({**CUSTOMER, **JSON}, b'{"years": 9, "note": "x"}', "a"),
    "missing field": ({**CUSTOMER, **JSON}, b'{"years": 1}', "a"),
    "no token": (JSON, GOOD, "a"),
    "basic scheme": ({"Authorization": "Basic dXNlcjpwYXNz", **JSON}, GOOD, "a"),
    "bearer without token": ({"Authorization": "Bearer ", **JSON}, GOOD, "a"),
    "garbage token": ({"Authorization": "Bearer not.a.jwt", **JSON}, GOOD, "a"),
    "bad path parameter": ({**CUSTOMER, **JSON}, GOOD, "A1"),
    "header named by its parameter": ({**CUSTOMER, **JSON, "X-Note": "hi"}, GOOD, "a"),
    "that header too long": ({**CUSTOMER, **JSON, "X-Note": "hello!"}, GOOD, "a"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_lean_route_answers_as_fastapi_does(db: Container, case: str) -> None:
    headers, body, kind = CASES[case]
    transport = httpx.ASGITransport(app=twin_app(db))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        lean = await http.post(f"/lean/{kind}", content=body, headers=headers)
        plain = await http.post(f"/plain/{kind}", content=body, headers=headers)
    assert lean.status_code == plain.status_code, (lean.text, plain.text)
    for header in ("content-type", "www-authenticate", "content-language"):
        assert lean.headers.get(header) == plain.headers.get(header)
    assert _without_instance(lean) == _without_instance(plain)


@pytest.mark.parametrize("ttl", [None, timedelta(seconds=-5)], ids=["new", "expired"])
async def test_a_token_the_lean_route_has_not_seen_is_verified_as_usual(
    db: Container, ttl: timedelta | None
) -> None:
    transport = httpx.ASGITransport(app=twin_app(db))
    token = fresh_token() if ttl is None else fresh_token(ttl=ttl)
    headers = {"Authorization": f"Bearer {token}", **JSON}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        first = await http.post("/lean/a", content=GOOD, headers=headers)
        again = await http.post("/lean/a", content=GOOD, headers=headers)
        plain = await http.post("/plain/a", content=GOOD, headers=headers)
    assert first.status_code == again.status_code == plain.status_code
    assert first.json() == again.json()
    if ttl is None:
        assert first.json()["role"] == "partner"
    else:
        assert first.json()["code"] == "token_expired"


async def test_the_everyday_request_is_read_without_fastapi(db: Container) -> None:
    # Every answer above would be the same if the lean route always gave way to FastAPI:
    # this one checks that it doesn't, for a known token and a body that validates.
    app = twin_app(db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        await http.post("/plain/a", content=GOOD, headers={**CUSTOMER, **JSON})  # token known
    lean = APIRouter(route_class=LeanRoute)
    lean.post("/lean/{kind}")(echo)
    plan = _plan(lean.routes[0])  # type: ignore[arg-type]
    assert plan is not None
    headers = {**CUSTOMER, **JSON, "Idempotency-Key": "k-1"}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": GOOD, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/lean/a",
        "app": app,
        "path_params": {"kind": "a"},
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    values = await plan.values(Request(scope, receive))
    assert values is not None
    assert values["body"] == Payload(years=2, note="caffè")
    assert values["kind"] == "a"
    assert values["idempotency_key"] == "k-1"
    assert values["caller"].principal.subject == "acc-1"


@pytest.mark.parametrize(
    "route",
    [
        next(r for r in quotes.router.routes if getattr(r, "name", "") == "create_quote"),
        next(r for r in orders.router.routes if getattr(r, "name", "") == "create_order"),
        webhooks.router.routes[0],
    ],
    ids=["create_quote", "create_order", "payment_webhook"],
)
def test_quotes_orders_and_payments_are_served_lean(route: Any) -> None:
    # A parameter of a kind LeanRoute does not read would quietly send every request
    # back through FastAPI's solving (issue 10's CPU budget): keep these lean.
    assert isinstance(route, LeanRoute)
    assert _plan(route) is not None


def _without_instance(response: httpx.Response) -> Any:
    document = response.json()
    if isinstance(document, dict):
        document.pop("instance", None)
    return document
