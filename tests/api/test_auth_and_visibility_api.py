"""Who may call, and what each role sees: 401 for a bad token, 404 for another's mailbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from app.auth import issue_dev_token
from app.domain.access import Role
from tests.api.helpers import put_mailbox
from tests.conftest import CUSTOMER, OTHER_CUSTOMER, PARTNER, STAFF, TEST_SECRET, bearer

PROBLEM_JSON = "application/problem+json"


def _raw_token(claims: dict[str, Any], secret: str = TEST_SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


def _in_an_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


BAD_CREDENTIALS = {
    "missing token": {},
    "not a bearer scheme": {"Authorization": "Basic YWNjLTE6c2VjcmV0"},
    "malformed token": {"Authorization": "Bearer not-a-jwt"},
    "signed with another secret": {
        "Authorization": "Bearer "
        + issue_dev_token("another-secret-0123456789abcdef-xyz", Role.CUSTOMER, "acc-1")
    },
    "expired token": {
        "Authorization": "Bearer "
        + issue_dev_token(
            TEST_SECRET,
            Role.CUSTOMER,
            "acc-1",
            now=datetime.now(UTC) - timedelta(days=2),
            ttl=timedelta(hours=1),
        )
    },
    "token without role": _raw_token({"sub": "acc-1", "exp": _in_an_hour()}),
    "token without sub": _raw_token({"role": "customer", "exp": _in_an_hour()}),
    "token without exp": _raw_token({"sub": "acc-1", "role": "customer"}),
    "unknown role": _raw_token({"sub": "acc-1", "role": "admin", "exp": _in_an_hour()}),
    # PyJWT reads key "" as no key (its typed spelling of None for alg none)
    "alg none": {
        "Authorization": "Bearer "
        + jwt.encode(
            {"sub": "staff-1", "role": "staff", "exp": _in_an_hour()}, key="", algorithm="none"
        )
    },
}


_EXPECTED_CODE = {
    "missing token": "not_authenticated",
    "not a bearer scheme": "not_authenticated",
    "expired token": "token_expired",
}


def _name_of(headers: dict[str, str]) -> str:
    return next(name for name, sent in BAD_CREDENTIALS.items() if sent is headers)


@pytest.mark.parametrize("headers", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
@pytest.mark.parametrize(
    "path", ["/v1/mailboxes", "/v1/mailboxes/mbx-1", "/v1/quotes/q-1"], ids=lambda p: p
)
async def test_bad_credentials_are_401_problem_with_bearer_challenge(
    client: httpx.AsyncClient, headers: dict[str, str], path: str
) -> None:
    await put_mailbox(client, "mbx-1")

    response = await client.get(path, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    # No bearer token sent: a plain challenge. One sent but no good: RFC 6750's
    # invalid_token, with an expired one told apart (a client refreshes it).
    code = _EXPECTED_CODE.get(_name_of(headers), "invalid_token")
    if code == "not_authenticated":
        assert response.headers["www-authenticate"] == "Bearer"
    else:
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert body["code"] == code
    assert body["status"] == 401
    assert body["type"] == f"urn:pec-renewal:problem:{code}"
    assert "pec.example.it" not in response.text  # nothing of the mailbox leaks


async def test_bad_token_on_staff_endpoint_is_401_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "address": "mbx-9@pec.example.it",
        "plan": "STANDARD",
        "expires_on": "2027-01-01",
        "account_id": "acc-1",
    }

    response = await client.put(
        "/v1/admin/mailboxes/mbx-9", json=body, headers=BAD_CREDENTIALS["malformed token"]
    )

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert (await client.get("/v1/mailboxes/mbx-9", headers=STAFF)).status_code == 404


async def _seed_two_accounts(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-a1", account_id="acc-1", partner_id="ptn-1")
    await put_mailbox(client, "mbx-a2", account_id="acc-1")
    await put_mailbox(client, "mbx-b1", account_id="acc-2", partner_id="ptn-1")
    await put_mailbox(client, "mbx-b2", account_id="acc-2")


async def _listed_ids(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await client.get("/v1/mailboxes", headers=headers)
    assert response.status_code == 200, response.text
    return sorted(item["id"] for item in response.json()["items"])


async def test_customer_lists_only_its_accounts_mailboxes(client: httpx.AsyncClient) -> None:
    await _seed_two_accounts(client)

    assert await _listed_ids(client, CUSTOMER) == ["mbx-a1", "mbx-a2"]
    assert await _listed_ids(client, OTHER_CUSTOMER) == ["mbx-b1", "mbx-b2"]


async def test_customer_gets_its_own_mailbox(client: httpx.AsyncClient) -> None:
    await _seed_two_accounts(client)

    response = await client.get("/v1/mailboxes/mbx-a2", headers=CUSTOMER)

    assert response.status_code == 200
    assert response.json()["account_id"] == "acc-1"


async def test_another_accounts_mailbox_is_404_like_an_unknown_one(
    client: httpx.AsyncClient,
) -> None:
    await _seed_two_accounts(client)

    foreign = await client.get("/v1/mailboxes/mbx-b1", headers=CUSTOMER)
    unknown = await client.get("/v1/mailboxes/mbx-zz", headers=CUSTOMER)

    assert foreign.status_code == unknown.status_code == 404
    assert foreign.headers["content-type"] == unknown.headers["content-type"] == PROBLEM_JSON
    foreign_body, unknown_body = foreign.json(), unknown.json()
    assert foreign_body["code"] == "mailbox_not_found"
    # Only the echoed path differs: nothing says that mbx-b1 exists.
    assert foreign_body.pop("instance") == "/v1/mailboxes/mbx-b1"
    assert unknown_body.pop("instance") == "/v1/mailboxes/mbx-zz"
    assert foreign_body == unknown_body
    assert "acc-2" not in foreign.text


async def test_partner_sees_only_the_mailboxes_it_manages(client: httpx.AsyncClient) -> None:
    await _seed_two_accounts(client)

    assert await _listed_ids(client, PARTNER) == ["mbx-a1", "mbx-b1"]
    assert (await client.get("/v1/mailboxes/mbx-b1", headers=PARTNER)).status_code == 200
    unmanaged = await client.get("/v1/mailboxes/mbx-a2", headers=PARTNER)
    assert unmanaged.status_code == 404
    assert unmanaged.json()["code"] == "mailbox_not_found"


async def test_partner_id_is_not_an_account_id(client: httpx.AsyncClient) -> None:
    """A partner token whose subject equals an account id sees nothing of that account."""
    await _seed_two_accounts(client)
    partner_named_like_account = bearer(Role.PARTNER, "acc-1")

    assert await _listed_ids(client, partner_named_like_account) == []
    assert (
        await client.get("/v1/mailboxes/mbx-a2", headers=partner_named_like_account)
    ).status_code == 404


async def test_customer_named_like_partner_sees_nothing(client: httpx.AsyncClient) -> None:
    await _seed_two_accounts(client)

    assert await _listed_ids(client, bearer(Role.CUSTOMER, "ptn-1")) == []


async def test_staff_sees_every_mailbox(client: httpx.AsyncClient) -> None:
    await _seed_two_accounts(client)

    assert await _listed_ids(client, STAFF) == ["mbx-a1", "mbx-a2", "mbx-b1", "mbx-b2"]
    for mailbox_id in ("mbx-a1", "mbx-a2", "mbx-b1", "mbx-b2"):
        assert (await client.get(f"/v1/mailboxes/{mailbox_id}", headers=STAFF)).status_code == 200


@pytest.mark.parametrize("headers", [CUSTOMER, PARTNER], ids=["customer", "partner"])
async def test_non_staff_cannot_create_a_mirror(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = {
        "address": "mbx-new@pec.example.it",
        "plan": "STANDARD",
        "expires_on": "2027-01-01",
        "account_id": "acc-1",
    }

    response = await client.put("/v1/admin/mailboxes/mbx-new", json=body, headers=headers)

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "forbidden"
    assert (await client.get("/v1/mailboxes/mbx-new", headers=STAFF)).status_code == 404


async def test_customer_cannot_update_its_own_mirror(client: httpx.AsyncClient) -> None:
    before = await put_mailbox(client, "mbx-a1", "STANDARD", used_mailbox_mb=100)
    body = {
        "address": "mbx-a1@pec.example.it",
        "plan": "PREMIUM",
        "expires_on": "2030-01-01",
        "used_mailbox_mb": 0,
        "account_id": "acc-1",
    }

    response = await client.put("/v1/admin/mailboxes/mbx-a1", json=body, headers=CUSTOMER)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    after = (await client.get("/v1/mailboxes/mbx-a1", headers=STAFF)).json()
    assert after == before
