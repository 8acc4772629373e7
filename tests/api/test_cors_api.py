"""CORS: the sandbox answers a frontend dev server on localhost, whatever its port; every
other mode answers only the configured CORS_ORIGINS (api.md: "CORS for the configured
frontend origins only").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from app.settings import Environment, Settings

FRONTEND = "https://app.example.it"
REAL_SECRETS = {
    "stripe_webhook_secret": "whsec_live_0123456789",
    "generic_webhook_secret": "whsec_bGl2ZS1nZW5lcmljLXNlY3JldC0wMTIzNDU2Nzg5",
}
Client = Callable[[Settings], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def serve(tmp_path: Path) -> Client:
    @asynccontextmanager
    async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http
        await app.state.container.close()

    return client


def sandbox(tmp_path: Path) -> Settings:
    """What `make run` starts with: no CORS_ORIGINS set."""
    return Settings(
        environment=Environment.DEVELOPMENT,
        sandbox=True,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.sqlite3'}",
        log_level="WARNING",
    )


def not_sandbox(tmp_path: Path) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}",
        cors_origins=[FRONTEND],
        log_level="WARNING",
    )


def production(_tmp_path: Path) -> Settings:
    return Settings(
        environment=Environment.PRODUCTION,
        database_url="postgresql+asyncpg://app@db/pec",
        auth_jwks_url="https://idp.example/jwks",
        auth_jwt_audience="pec-renewal",
        cors_origins=[FRONTEND],
        log_level="WARNING",
        **REAL_SECRETS,  # type: ignore[arg-type]
    )


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": (
            "authorization, content-type, idempotency-key, accept-language"
        ),
    }


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:5173",
        "http://127.0.0.1:3000",
        "http://localhost",
        "https://localhost:8443",
    ],
)
async def test_the_sandbox_lets_a_dev_server_on_localhost_post_a_quote(
    serve: Client, tmp_path: Path, origin: str
) -> None:
    async with serve(sandbox(tmp_path)) as client:
        response = await client.options("/v1/quotes", headers=preflight(origin))

    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == origin
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "idempotency-key", "accept-language"):
        assert header in allowed
    assert "If-None-Match".lower() in allowed


async def test_the_sandbox_shows_a_browser_the_headers_a_frontend_reads(
    serve: Client, tmp_path: Path
) -> None:
    async with serve(sandbox(tmp_path)) as client:
        response = await client.get("/healthz", headers={"Origin": "http://localhost:5173"})

    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert exposed >= {
        "etag",
        "location",
        "x-request-id",
        "idempotent-replayed",
        "content-language",
        "retry-after",
    }


@pytest.mark.parametrize(
    "origin",
    ["http://localhost.evil.example", "http://evil.example/?localhost:5173", "null"],
)
async def test_the_sandbox_refuses_origins_that_only_look_local(
    serve: Client, tmp_path: Path, origin: str
) -> None:
    async with serve(sandbox(tmp_path)) as client:
        response = await client.options("/v1/quotes", headers=preflight(origin))

    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("settings", [not_sandbox, production], ids=["test", "production"])
async def test_outside_the_sandbox_localhost_is_refused_and_the_configured_origin_allowed(
    serve: Client, tmp_path: Path, settings: Callable[[Path], Settings]
) -> None:
    async with serve(settings(tmp_path)) as client:
        local = await client.options("/v1/quotes", headers=preflight("http://localhost:5173"))
        configured = await client.options("/v1/quotes", headers=preflight(FRONTEND))

    assert local.status_code == 400  # Starlette's answer to a disallowed preflight
    assert "access-control-allow-origin" not in local.headers
    assert configured.status_code == 200
    assert configured.headers["access-control-allow-origin"] == FRONTEND


async def test_a_too_large_body_is_a_413_the_frontend_can_read(
    serve: Client, tmp_path: Path
) -> None:
    settings = sandbox(tmp_path)
    body = b"{" + b" " * settings.max_body_bytes + b"}"
    headers = {"Origin": "http://localhost:5173", "Content-Type": "application/json"}

    async with serve(settings) as client:
        response = await client.post("/v1/quotes", content=body, headers=headers)

    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert response.json()["code"] == "request_too_large"
