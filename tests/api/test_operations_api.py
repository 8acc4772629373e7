"""What operators and browsers rely on: health, readiness, metrics, request ids, errors, CORS."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.container import Container, build_container
from app.main import create_app
from tests.api.helpers import metric_sample as sample
from tests.api.helpers import put_mailbox, quote
from tests.conftest import CUSTOMER, MovableClock

PROBLEM_JSON = "application/problem+json"
FRONTEND = "https://app.example.it"


def app_client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


# Health


async def test_healthz_is_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz_is_200_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checked_at"] == "2026-11-25T10:00:00Z"


@pytest.fixture
async def unreachable_database_client(
    db: Container, clock: MovableClock
) -> AsyncIterator[httpx.AsyncClient]:
    settings = db.settings.model_copy(
        update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"}
    )
    broken = build_container(settings, clock=clock)
    try:
        async with app_client(create_app(container=broken)) as http:
            yield http
    finally:
        await broken.close()


async def test_readyz_is_503_problem_when_the_database_is_unreachable(
    unreachable_database_client: httpx.AsyncClient,
) -> None:
    ready = await unreachable_database_client.get("/readyz")
    alive = await unreachable_database_client.get("/healthz")

    assert ready.status_code == 503
    assert ready.headers["content-type"] == PROBLEM_JSON
    assert ready.json()["code"] == "database_unavailable"
    assert alive.status_code == 200


# Metrics


async def test_metrics_is_prometheus_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "version=" in response.headers["content-type"]
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {"http_requests", "http_request_duration_seconds", "quotes_created"} <= names


async def _route_samples(client: httpx.AsyncClient, suffix: str) -> dict[str, float]:
    """GET/200 request counts by route label, for labels ending in `suffix`."""
    response = await client.get("/metrics")
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            if (
                s.name == "http_requests_total"
                and s.labels["route"].endswith(suffix)
                and (s.labels["method"], s.labels["status"]) == ("GET", "200")
            ):
                found[s.labels["route"]] = s.value
    return found


async def test_requests_are_counted_by_full_route_template(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1")
    labels = {"route": "/v1/mailboxes/{mailbox_id}", "method": "GET", "status": "200"}
    before = await sample(client, "http_requests_total", **labels)

    await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)
    await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)

    assert await sample(client, "http_requests_total", **labels) == before + 2
    text = (await client.get("/metrics")).text
    assert re.search(
        r'http_request_duration_seconds_count\{route="/v1/mailboxes/\{mailbox_id\}"\} \d', text
    )


async def test_requests_are_counted_by_route_template_not_by_id(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1")
    before = await _route_samples(client, "/mailboxes/{mailbox_id}")

    await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)
    await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)
    missing = await client.get("/v1/mailboxes/mbx-nope", headers=CUSTOMER)

    after = await _route_samples(client, "/mailboxes/{mailbox_id}")
    assert missing.status_code == 404
    assert len(after) == 1
    [(route, count)] = after.items()
    assert count == before.get(route, 0.0) + 2
    text = (await client.get("/metrics")).text
    assert "mbx-1" not in text  # never one series per id
    assert "mbx-nope" not in text
    assert 'status="404"' in text


async def test_unmatched_paths_share_one_series(client: httpx.AsyncClient) -> None:
    await client.get("/no/such/path-123")

    text = (await client.get("/metrics")).text

    assert "path-123" not in text
    assert 'route="unmatched"' in text


async def test_quotes_are_counted_by_outcome(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD")
    await put_mailbox(client, "mbx-2", "STANDARD", auto_renewal=True)
    ok_before = await sample(client, "quotes_created_total", outcome="ok")
    blocked_before = await sample(client, "quotes_created_total", outcome="blocked")

    ok = await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    blocked = await quote(client, CUSTOMER, [{"mailbox_id": "mbx-2"}])

    assert (ok.json()["status"], blocked.json()["status"]) == ("ok", "blocked")
    assert await sample(client, "quotes_created_total", outcome="ok") == ok_before + 1
    assert await sample(client, "quotes_created_total", outcome="blocked") == blocked_before + 1


async def test_a_replayed_quote_is_not_counted_twice(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1")
    headers = {**CUSTOMER, "Idempotency-Key": "metrics-replay-1"}
    before = await sample(client, "quotes_created_total", outcome="ok")

    first = await quote(client, headers, [{"mailbox_id": "mbx-1"}])
    again = await quote(client, headers, [{"mailbox_id": "mbx-1"}])

    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await sample(client, "quotes_created_total", outcome="ok") == before + 1


# Request ids


async def test_request_id_is_echoed_when_sent(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "frontend-abc-123"})

    assert response.headers["x-request-id"] == "frontend-abc-123"


async def test_request_id_is_generated_when_not_sent(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")

    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("sent", ["x" * 129, "   "], ids=["too-long", "blank"])
async def test_unusable_request_id_is_replaced(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": sent})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_error_responses_carry_the_request_id_too(client: httpx.AsyncClient) -> None:
    unauthenticated = await client.get("/v1/mailboxes", headers={"X-Request-ID": "req-401"})
    not_found = await client.get("/nope", headers={"X-Request-ID": "req-404"})

    assert unauthenticated.headers["x-request-id"] == "req-401"
    assert not_found.headers["x-request-id"] == "req-404"


# Errors outside the handlers


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nothing-here")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert (body["status"], body["code"], body["instance"]) == (
        404,
        "not_found",
        "/v1/nothing-here",
    )
    assert body["title"]
    assert body["detail"]


async def test_wrong_method_is_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/v1/plans")

    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


async def test_problem_messages_follow_accept_language(client: httpx.AsyncClient) -> None:
    italian = await client.get("/v1/nothing-here")
    english = await client.get("/v1/nothing-here", headers={"Accept-Language": "en-US,en;q=0.8"})

    assert italian.headers["content-language"] == "it"
    assert english.headers["content-language"] == "en"
    assert italian.json()["code"] == english.json()["code"] == "not_found"
    assert italian.json()["title"] != english.json()["title"]


async def test_malformed_json_is_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/quotes",
        content=b'{"years": 1, "items": [',
        headers={**CUSTOMER, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "validation_failed"


async def test_declared_oversized_body_is_413_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/quotes",
        content=b"{" + b" " * (70 * 1024) + b"}",
        headers={**CUSTOMER, "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "request_too_large"


async def test_streamed_oversized_body_is_413_problem(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"years": 1, "items": ['
        for _ in range(20):
            yield b" " * 4096

    response = await client.post(
        "/v1/quotes",
        content=chunks(),
        headers={**CUSTOMER, "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "request_too_large"


# CORS


@pytest.fixture
async def cors_client(db: Container) -> AsyncIterator[httpx.AsyncClient]:
    settings = db.settings.model_copy(update={"cors_origins": [FRONTEND]})
    async with app_client(create_app(settings=settings, container=db)) as http:
        yield http


def preflight(origin: str, method: str = "GET") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,idempotency-key",
    }


async def test_preflight_from_the_frontend_is_allowed(cors_client: httpx.AsyncClient) -> None:
    response = await cors_client.options("/v1/quotes", headers=preflight(FRONTEND, "POST"))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers
    assert "idempotency-key" in allowed_headers


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example.com", "https://app.example.it.evil.com", "http://app.example.it"],
)
async def test_preflight_from_another_origin_gets_no_allow_origin(
    cors_client: httpx.AsyncClient, origin: str
) -> None:
    response = await cors_client.options("/v1/mailboxes", headers=preflight(origin))

    assert response.status_code >= 400
    assert "access-control-allow-origin" not in response.headers


async def test_simple_request_from_the_frontend_exposes_the_etag(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.get("/v1/plans", headers={"Origin": FRONTEND})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "etag" in exposed
    assert "x-request-id" in exposed


async def test_simple_request_from_another_origin_gets_no_allow_origin(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.get("/v1/plans", headers={"Origin": "https://evil.example.com"})

    assert response.status_code == 200  # the browser, not the server, withholds it
    assert "access-control-allow-origin" not in response.headers


async def test_no_cors_without_configured_origins(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/plans", headers={"Origin": FRONTEND})
    preflight_response = await client.options("/v1/plans", headers=preflight(FRONTEND))

    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight_response.headers
