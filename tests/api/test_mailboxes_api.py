"""GET /v1/mailboxes[/{id}] (renewability, derived status, filters, cursor) and the staff mirror."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.container import Container
from tests.api.helpers import TODAY, put_mailbox
from tests.conftest import CUSTOMER, STAFF
from tests.shared_app import app_for

PROBLEM_JSON = "application/problem+json"


def blocker_codes(mailbox: dict[str, Any]) -> list[str]:
    return [blocker["code"] for blocker in mailbox["renewal_blockers"]]


async def get_mailbox(client: httpx.AsyncClient, mailbox_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/mailboxes/{mailbox_id}", headers=CUSTOMER)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def list_ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/mailboxes", params=params, headers=CUSTOMER)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# GET /v1/mailboxes/{id}: the "Rinnova" button


async def test_plain_active_mailbox_is_renewable(client: httpx.AsyncClient) -> None:
    await put_mailbox(
        client,
        "mbx-1",
        "PRO",
        expires_on=TODAY + timedelta(days=30),
        extra_mailbox_gb=1,
        used_mailbox_mb=700,
        used_archive_mb=50,
        partner_id="ptn-1",
    )

    body = await get_mailbox(client, "mbx-1")

    assert body == {
        "id": "mbx-1",
        "address": "mbx-1@pec.example.it",
        "plan": "PRO",
        "extra_mailbox_gb": 1,
        "extra_archive_gb": 0,
        "used_mailbox_mb": 700,
        "used_archive_mb": 50,
        "expires_on": (TODAY + timedelta(days=30)).isoformat(),
        "status": "ACTIVE",
        "auto_renewal": False,
        "auto_renewal_years": 1,
        "account_id": "acc-1",
        "partner_id": "ptn-1",
        "renewable": True,
        "renewal_blockers": [],
        "holder_on_file": None,  # the test accounts have none
        "scheduled_change": None,  # added with scheduled downgrades: none here
    }


async def test_auto_renewal_on_blocks_renewal_by_hand(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", auto_renewal=True, auto_renewal_years=2)

    body = await get_mailbox(client, "mbx-1")

    assert body["renewable"] is False
    assert blocker_codes(body) == ["auto_renewal_active"]
    assert body["renewal_blockers"][0]["blocking"] is True
    assert body["renewal_blockers"][0]["message"]
    assert (body["auto_renewal"], body["auto_renewal_years"]) == (True, 2)


async def test_deleted_mailbox_is_not_renewable(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", status="DELETED")

    body = await get_mailbox(client, "mbx-1")

    assert body["status"] == "DELETED"
    assert body["renewable"] is False
    assert blocker_codes(body) == ["mailbox_deleted"]


async def test_mailbox_past_the_90_day_grace_is_deleted_by_its_dates(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", status="ACTIVE", expires_on=TODAY - timedelta(days=91))

    body = await get_mailbox(client, "mbx-1")

    assert body["status"] == "DELETED"
    assert body["renewable"] is False
    assert blocker_codes(body) == ["mailbox_deleted"]


async def test_last_day_of_grace_is_still_expired_and_renewable(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", expires_on=TODAY - timedelta(days=90))

    body = await get_mailbox(client, "mbx-1")

    assert body["status"] == "EXPIRED"
    assert body["renewable"] is True


async def test_suspended_mailbox_is_not_renewable(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", status="SUSPENDED")

    body = await get_mailbox(client, "mbx-1")

    assert body["status"] == "SUSPENDED"
    assert body["renewable"] is False
    assert blocker_codes(body) == ["mailbox_suspended"]


async def test_stale_active_mirror_past_expiry_shows_expired_and_stays_renewable(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", status="ACTIVE", expires_on=TODAY - timedelta(days=10))

    body = await get_mailbox(client, "mbx-1")

    assert body["status"] == "EXPIRED"
    assert body["renewable"] is True
    assert body["renewal_blockers"] == []


async def test_mailbox_expiring_today_is_still_active(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", expires_on=TODAY)

    assert (await get_mailbox(client, "mbx-1"))["status"] == "ACTIVE"


async def test_blocker_messages_follow_accept_language(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", status="SUSPENDED")

    italian = await get_mailbox(client, "mbx-1")
    english = (
        await client.get("/v1/mailboxes/mbx-1", headers={**CUSTOMER, "Accept-Language": "en"})
    ).json()

    assert "sospesa" in italian["renewal_blockers"][0]["message"]
    assert "suspended" in english["renewal_blockers"][0]["message"]


# GET /v1/mailboxes: filters


async def _seed_every_status(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "active", expires_on=TODAY + timedelta(days=30))
    await put_mailbox(client, "active-today", expires_on=TODAY)
    await put_mailbox(client, "expired", expires_on=TODAY - timedelta(days=10))
    await put_mailbox(client, "expired-stored", status="EXPIRED", expires_on=TODAY - timedelta(1))
    await put_mailbox(client, "deleted", status="DELETED", expires_on=TODAY + timedelta(days=5))
    await put_mailbox(client, "deleted-by-dates", expires_on=TODAY - timedelta(days=91))
    await put_mailbox(client, "suspended", status="SUSPENDED", expires_on=TODAY + timedelta(60))
    await put_mailbox(
        client, "suspended-too-old", status="SUSPENDED", expires_on=TODAY - timedelta(days=120)
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("ACTIVE", {"active", "active-today"}),
        ("EXPIRED", {"expired", "expired-stored"}),
        ("DELETED", {"deleted", "deleted-by-dates", "suspended-too-old"}),
        ("SUSPENDED", {"suspended"}),
    ],
)
async def test_status_filter_matches_the_derived_status(
    client: httpx.AsyncClient, status: str, expected: set[str]
) -> None:
    await _seed_every_status(client)

    response = await client.get("/v1/mailboxes", params={"status": status}, headers=CUSTOMER)

    assert response.status_code == 200
    items = response.json()["items"]
    assert {item["id"] for item in items} == expected
    assert {item["status"] for item in items} == {status}


async def test_status_filters_partition_the_list(client: httpx.AsyncClient) -> None:
    await _seed_every_status(client)

    everything = await list_ids(client)
    by_status = [
        await list_ids(client, status=status)
        for status in ("ACTIVE", "EXPIRED", "DELETED", "SUSPENDED")
    ]

    assert sorted(everything) == sorted(i for ids in by_status for i in ids)
    assert len(everything) == 8


async def test_unknown_status_filter_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/mailboxes", params={"status": "GONE"}, headers=CUSTOMER)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [e["field"] for e in body["errors"]] == ["status"]


async def test_expiring_before_is_strictly_before(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-10", expires_on=TODAY + timedelta(days=10))
    await put_mailbox(client, "mbx-20", expires_on=TODAY + timedelta(days=20))
    await put_mailbox(client, "mbx-30", expires_on=TODAY + timedelta(days=30))

    cut = (TODAY + timedelta(days=20)).isoformat()

    assert await list_ids(client, expiring_before=cut) == ["mbx-10"]
    assert await list_ids(client, expiring_before=(TODAY + timedelta(days=21)).isoformat()) == [
        "mbx-10",
        "mbx-20",
    ]


async def test_status_and_expiring_before_combine(client: httpx.AsyncClient) -> None:
    await _seed_every_status(client)

    ids = await list_ids(
        client, status="ACTIVE", expiring_before=(TODAY + timedelta(days=1)).isoformat()
    )

    assert ids == ["active-today"]


async def test_malformed_expiring_before_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/v1/mailboxes", params={"expiring_before": "31/12/2026"}, headers=CUSTOMER
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["expiring_before"]


# GET /v1/mailboxes: cursor pagination


async def test_cursor_walks_every_mailbox_once_in_expiry_then_id_order(
    client: httpx.AsyncClient,
) -> None:
    # Two pairs share an expiry date, so the id breaks the tie.
    seeded = {
        "mbx-e": TODAY + timedelta(days=5),
        "mbx-c": TODAY + timedelta(days=40),
        "mbx-a": TODAY + timedelta(days=40),
        "mbx-d": TODAY + timedelta(days=5),
        "mbx-b": TODAY + timedelta(days=100),
    }
    for mailbox_id, expires_on in seeded.items():
        await put_mailbox(client, mailbox_id, expires_on=expires_on)

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/mailboxes", params=params, headers=CUSTOMER)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "pagination does not terminate"

    assert pages == [["mbx-d", "mbx-e"], ["mbx-a", "mbx-c"], ["mbx-b"]]
    walked = [mailbox_id for page in pages for mailbox_id in page]
    assert walked == sorted(seeded, key=lambda m: (seeded[m], m))


async def test_exactly_full_last_page_has_no_next_cursor(client: httpx.AsyncClient) -> None:
    for n in range(4):
        await put_mailbox(client, f"mbx-{n}", expires_on=TODAY + timedelta(days=n + 1))

    first = (await client.get("/v1/mailboxes", params={"limit": 2}, headers=CUSTOMER)).json()
    second = (
        await client.get(
            "/v1/mailboxes", params={"limit": 2, "cursor": first["next_cursor"]}, headers=CUSTOMER
        )
    ).json()

    assert [i["id"] for i in second["items"]] == ["mbx-2", "mbx-3"]
    assert second["next_cursor"] is None


async def test_cursor_keeps_the_filters(client: httpx.AsyncClient) -> None:
    await _seed_every_status(client)
    params: dict[str, str | int] = {"status": "DELETED", "limit": 1}

    walked: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        query: dict[str, str | int] = {**params, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/v1/mailboxes", params=query, headers=CUSTOMER)).json()
        walked += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert walked == ["suspended-too-old", "deleted-by-dates", "deleted"]


async def test_empty_list_has_no_next_cursor(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/mailboxes", headers=CUSTOMER)

    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    "cursor",
    ["!!!", "abc", "bm90LWEtZGF0ZQ==", "_w==", "MjAyNi0xMy00MHxtYngtMQ=="],
    ids=["not-base64", "bad-padding", "not-a-date", "not-utf8", "impossible-date"],
)
async def test_invalid_cursor_is_422_invalid_cursor(client: httpx.AsyncClient, cursor: str) -> None:
    response = await client.get("/v1/mailboxes", params={"cursor": cursor}, headers=CUSTOMER)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("limit", ["0", "201", "-1", "two"])
async def test_limit_out_of_range_is_422(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get("/v1/mailboxes", params={"limit": limit}, headers=CUSTOMER)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["limit"]


# PUT /v1/admin/mailboxes/{id}: the staff mirror


def mirror_body(mailbox_id: str = "mbx-1", **fields: Any) -> dict[str, Any]:
    return {
        "address": f"{mailbox_id}@pec.example.it",
        "plan": "STANDARD",
        "expires_on": (TODAY + timedelta(days=30)).isoformat(),
        "account_id": "acc-1",
        **fields,
    }


async def put_mirror(
    client: httpx.AsyncClient, mailbox_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.put(f"/v1/admin/mailboxes/{mailbox_id}", json=body, headers=STAFF)


async def staff_view(client: httpx.AsyncClient, mailbox_id: str) -> httpx.Response:
    return await client.get(f"/v1/mailboxes/{mailbox_id}", headers=STAFF)


async def test_mirror_creates_then_updates(client: httpx.AsyncClient) -> None:
    created = await put_mirror(client, "mbx-1", mirror_body(used_mailbox_mb=100))
    updated = await put_mirror(
        client,
        "mbx-1",
        mirror_body(
            address="MBX-1@PEC.Example.IT",
            plan="PRO",
            used_mailbox_mb=1500,
            expires_on=(TODAY + timedelta(days=400)).isoformat(),
            partner_id="ptn-1",
        ),
    )

    assert created.status_code == 201
    assert created.json()["plan"] == "STANDARD"
    assert updated.status_code == 200
    body = updated.json()
    assert body["address"] == "mbx-1@pec.example.it"
    assert (body["plan"], body["used_mailbox_mb"], body["partner_id"]) == ("PRO", 1500, "ptn-1")
    assert (await staff_view(client, "mbx-1")).json() == body


async def test_mirroring_the_same_record_twice_is_200_and_unchanged(
    client: httpx.AsyncClient,
) -> None:
    first = await put_mirror(client, "mbx-1", mirror_body())
    second = await put_mirror(client, "mbx-1", mirror_body())

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()


async def _assert_rejected_and_nothing_changed(
    client: httpx.AsyncClient,
    mailbox_id: str,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str,
    field_code: str | None = None,
) -> dict[str, Any]:
    before_existing = (await staff_view(client, "mbx-1")).json()

    response = await put_mirror(client, mailbox_id, body)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code
    assert field in [error["field"] for error in problem["errors"]]
    if field_code is not None:
        assert {"field": field, "code": field_code} in [
            {"field": error["field"], "code": error["code"]} for error in problem["errors"]
        ]
    assert (await staff_view(client, "mbx-1")).json() == before_existing
    if mailbox_id != "mbx-1":
        assert (await staff_view(client, mailbox_id)).status_code == 404
    return problem


@pytest.mark.parametrize("target", ["mbx-1", "mbx-new"], ids=["update", "create"])
async def test_mirror_rejects_unknown_plan(client: httpx.AsyncClient, target: str) -> None:
    await put_mailbox(client, "mbx-1")

    # Like POST /v1/quotes: a validation problem whose field error says unknown_plan.
    await _assert_rejected_and_nothing_changed(
        client,
        target,
        mirror_body(target, plan="GOLD"),
        422,
        "validation_failed",
        "plan",
        "unknown_plan",
    )


@pytest.mark.parametrize("target", ["mbx-1", "mbx-new"], ids=["update", "create"])
async def test_mirror_rejects_unknown_account(client: httpx.AsyncClient, target: str) -> None:
    await put_mailbox(client, "mbx-1")

    await _assert_rejected_and_nothing_changed(
        client,
        target,
        mirror_body(target, account_id="acc-404"),
        422,
        "unknown_owner",
        "account_id",
        "unknown_owner",
    )


async def test_mirror_rejects_unknown_partner(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1")

    await _assert_rejected_and_nothing_changed(
        client,
        "mbx-1",
        mirror_body("mbx-1", partner_id="ptn-404"),
        422,
        "unknown_owner",
        "partner_id",
    )


@pytest.mark.parametrize(
    "address", ["mbx-1@pec.example.it", "MBX-1@Pec.Example.It"], ids=["same", "other-case"]
)
@pytest.mark.parametrize("target", ["mbx-2", "mbx-new"], ids=["update", "create"])
async def test_mirror_rejects_an_address_of_another_mailbox(
    client: httpx.AsyncClient, target: str, address: str
) -> None:
    await put_mailbox(client, "mbx-1")
    await put_mailbox(client, "mbx-2")
    before_other = (await staff_view(client, "mbx-2")).json()

    response = await put_mirror(client, target, mirror_body(target, address=address))

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "mailbox_address_taken"
    assert (await staff_view(client, "mbx-1")).json()["address"] == "mbx-1@pec.example.it"
    if target == "mbx-2":
        assert (await staff_view(client, "mbx-2")).json() == before_other
    else:
        assert (await staff_view(client, target)).status_code == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"used_mailbox_mb": -1}, "used_mailbox_mb"),
        ({"used_archive_mb": -5}, "used_archive_mb"),
        ({"extra_mailbox_gb": -1}, "extra_mailbox_gb"),
        ({"status": "ZOMBIE"}, "status"),
        ({"status": "active"}, "status"),
        ({"expires_on": "2027-02-30"}, "expires_on"),
        ({"used_mailbox_mb": "100"}, "used_mailbox_mb"),
        ({"auto_renewal_years": 6}, "auto_renewal_years"),
        ({"address": "not-an-address"}, "address"),
        ({"account_id": ""}, "account_id"),
        ({"colour": "blue"}, "colour"),
    ],
    ids=[
        "negative-used-mb",
        "negative-archive-mb",
        "negative-extra-gb",
        "unknown-status",
        "lowercase-status",
        "impossible-date",
        "number-as-string",
        "too-many-years",
        "bad-address",
        "empty-account",
        "unknown-field",
    ],
)
async def test_mirror_rejects_malformed_fields(
    client: httpx.AsyncClient, fields: dict[str, Any], field: str
) -> None:
    await put_mailbox(client, "mbx-1", used_mailbox_mb=100)

    problem = await _assert_rejected_and_nothing_changed(
        client, "mbx-1", mirror_body("mbx-1", **fields), 422, "validation_failed", field
    )

    assert problem["status"] == 422


async def test_mirror_rejects_missing_required_fields(client: httpx.AsyncClient) -> None:
    response = await put_mirror(client, "mbx-1", {"plan": "STANDARD"})

    assert response.status_code == 422
    errors = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert {
        ("address", "required"),
        ("expires_on", "required"),
        ("account_id", "required"),
    } <= errors
    assert (await staff_view(client, "mbx-1")).status_code == 404


@pytest.mark.parametrize(
    "mailbox_id", ["mbx 1", "mbx/1%2F", "x" * 65], ids=["space", "slash", "long"]
)
async def test_mirror_rejects_a_malformed_id(client: httpx.AsyncClient, mailbox_id: str) -> None:
    response = await put_mirror(client, mailbox_id, mirror_body("mbx-1"))

    assert response.status_code in (404, 422)
    assert response.headers["content-type"] == PROBLEM_JSON
    assert (await staff_view(client, "mbx-1")).status_code == 404


# PUT /v1/admin/mailboxes/{id}: concurrent writers (real PostgreSQL, real concurrency)


@pytest.fixture
async def server_client(db: Container) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees a crash as the 500 a real server would send, not as an exception."""
    transport = httpx.ASGITransport(app=app_for(db), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


BURSTS, WRITERS = 5, 8


async def test_concurrent_creates_of_one_mailbox_all_succeed(
    server_client: httpx.AsyncClient,
) -> None:
    for burst in range(BURSTS):
        mailbox_id = f"mbx-race-{burst}"
        responses = await asyncio.gather(
            *(
                put_mirror(server_client, mailbox_id, mirror_body(mailbox_id))
                for _ in range(WRITERS)
            )
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * (WRITERS - 1) + [201], statuses


async def test_concurrent_mirrors_with_one_address_are_one_success_and_409s(
    server_client: httpx.AsyncClient,
) -> None:
    for burst in range(BURSTS):
        address = f"shared-{burst}@pec.example.it"
        responses = await asyncio.gather(
            *(
                put_mirror(server_client, f"mbx-{burst}-{n}", mirror_body(address=address))
                for n in range(WRITERS)
            )
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * (WRITERS - 1), statuses
        conflicts = [r.json()["code"] for r in responses if r.status_code == 409]
        assert set(conflicts) == {"mailbox_address_taken"}


# Inputs PostgreSQL or the calendar cannot hold: a 4xx, never a 500


async def test_mailbox_id_with_nul_is_not_found_never_a_500(
    server_client: httpx.AsyncClient,
) -> None:
    response = await server_client.get("/v1/mailboxes/a%00b", headers=CUSTOMER)

    assert response.status_code in (404, 422), response.text
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_cursor_with_nul_is_invalid_cursor_never_a_500(
    server_client: httpx.AsyncClient,
) -> None:
    cursor = base64.urlsafe_b64encode(b"2026-01-01|a\x00").decode()

    response = await server_client.get("/v1/mailboxes", params={"cursor": cursor}, headers=CUSTOMER)

    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("address", "a\x00b@pec.example.it"),
        ("account_id", "acc\x00"),
        ("partner_id", "ptn\x00"),
    ],
)
async def test_mirror_with_nul_is_422_never_a_500(
    server_client: httpx.AsyncClient, field: str, value: str
) -> None:
    response = await put_mirror(server_client, "mbx-1", mirror_body(**{field: value}))

    assert response.status_code == 422, response.text
    assert (await staff_view(server_client, "mbx-1")).status_code == 404


async def test_mirror_with_an_expiry_at_the_end_of_the_calendar_never_breaks_the_list(
    server_client: httpx.AsyncClient,
) -> None:
    await put_mailbox(server_client, "mbx-ok")

    response = await put_mirror(server_client, "mbx-1", mirror_body(expires_on="9999-12-31"))
    listing = await server_client.get("/v1/mailboxes", headers=CUSTOMER)

    assert response.status_code < 500, response.text
    assert listing.status_code == 200, listing.text
    if response.status_code >= 400:
        assert [item["id"] for item in listing.json()["items"]] == ["mbx-ok"]
