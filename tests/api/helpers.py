"""Small helpers the API tests share: mirror a mailbox, ask for a quote."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from tests.conftest import STAFF, START

TODAY = START.date()


async def put_mailbox(
    client: httpx.AsyncClient,
    mailbox_id: str,
    plan: str = "STANDARD",
    *,
    account_id: str = "acc-1",
    expires_on: date | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Mirror a mailbox through the staff endpoint, as the mail platform would."""
    body = {
        "address": f"{mailbox_id}@pec.example.it",
        "plan": plan,
        "expires_on": (expires_on or TODAY + timedelta(days=30)).isoformat(),
        "account_id": account_id,
        **fields,
    }
    response = await client.put(f"/v1/admin/mailboxes/{mailbox_id}", json=body, headers=STAFF)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def quote(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    items: list[dict[str, Any]],
    years: int = 1,
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        "/v1/quotes", json={"years": years, "items": items, **extra}, headers=headers
    )


def codes(item: dict[str, Any]) -> list[str]:
    return [issue["code"] for issue in item["issues"]]


def warning_codes(item: dict[str, Any]) -> list[str]:
    return [issue["code"] for issue in item["warnings"]]
