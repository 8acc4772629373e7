"""Small helpers the API tests share: mirror a mailbox, ask for a quote, read a metric."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

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


def with_raw_header(headers: dict[str, str], name: str, value: bytes) -> dict[bytes, bytes]:
    """`headers` plus one sent as raw bytes: httpx takes headers all str or all bytes, and
    encodes str ones as ASCII, as done here."""
    raw = {key.encode("ascii"): text.encode("ascii") for key, text in headers.items()}
    return {**raw, name.encode("ascii"): value}


async def quote(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    items: list[dict[str, Any]],
    years: float = 1,  # a JSON number: 1.0 is a whole number too
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        "/v1/quotes", json={"years": years, "items": items, **extra}, headers=headers
    )


def codes(item: dict[str, Any]) -> list[str]:
    return [issue["code"] for issue in item["issues"]]


def warning_codes(item: dict[str, Any]) -> list[str]:
    return [issue["code"] for issue in item["warnings"]]


PROBLEM_JSON = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with this status and stable code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == f"urn:pec-renewal:problem:{code}"
    assert problem["title"]
    assert problem["detail"]
    assert isinstance(problem["errors"], list)
    for error in problem["errors"]:
        assert set(error) == {"field", "code", "message"}
        assert error["message"]
    return problem


def field_errors(problem: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in problem["errors"]]


async def metric_sample(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """The value of one sample in /metrics (0 when it has not been recorded yet)."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0
