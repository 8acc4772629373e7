"""When PostgreSQL can't be reached, callers get a 503 to retry, never a 500."""

from __future__ import annotations

import httpx
import pytest

from app.container import build_container
from app.main import create_app
from app.settings import Environment, Settings
from tests.conftest import CUSTOMER, TEST_SECRET


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/plans", None),
        ("GET", "/v1/mailboxes", None),
        ("POST", "/v1/quotes", {"years": 1, "items": [{"mailbox_id": "mbx-1"}]}),
        ("GET", "/readyz", None),
    ],
)
async def test_unreachable_database_is_a_503_problem(
    method: str, path: str, body: dict[str, object] | None
) -> None:
    settings = Settings(
        environment=Environment.TEST,
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",  # nothing listens
        auth_jwt_secret=TEST_SECRET,
        log_level="CRITICAL",
    )
    container = build_container(settings)
    app = create_app(container=container)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await client.request(method, path, json=body, headers=CUSTOMER)
    finally:
        await container.close()

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "database_unavailable"
