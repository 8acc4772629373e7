"""Every renewal rule of domain.md, reached through POST /v1/quotes on the real database.

A rule violation is data: the quote is created (201), its status is `blocked` and the
item carries the rule's code with the numbers a UI needs. Warnings never block.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.container import Container
from app.db.models import PromotionRow
from app.sandbox.demo_catalog import DEMO_PRICE_LIST_ID
from tests.api.helpers import TODAY, codes, put_mailbox, quote, warning_codes
from tests.conftest import CUSTOMER, PARTNER, MovableClock

pytestmark = pytest.mark.both_quote_stores  # asyncpg and SQLAlchemy


def only_issue(item: dict[str, Any]) -> dict[str, Any]:
    assert len(item["issues"]) == 1, item["issues"]
    issue: dict[str, Any] = item["issues"][0]
    return issue


def assert_blocked_with(body: dict[str, Any], code: str, **numbers: Any) -> dict[str, Any]:
    """The quote is blocked by exactly `code` on its one item, carrying `numbers`."""
    assert body["status"] == "blocked"
    item: dict[str, Any] = body["items"][0]
    assert item["blocked"] is True
    issue = only_issue(item)
    assert issue["code"] == code
    assert issue["blocking"] is True
    assert issue["message"]
    # exactly the rule's own numbers, no stray fields
    assert {k: v for k, v in issue.items() if k not in ("code", "blocking", "message")} == numbers
    return item


async def add_promotion(
    container: Container,
    plan_code: str = "PRO",
    yearly_price_cents: int = 1990,
    valid_from: date = date(2026, 11, 1),
    valid_until: date = date(2026, 12, 31),
    max_years: int = 2,
) -> None:
    async with container.sessionmaker() as session:
        session.add(
            PromotionRow(
                price_list_id=DEMO_PRICE_LIST_ID,
                plan_code=plan_code,
                yearly_price_cents=yearly_price_cents,
                valid_from=valid_from,
                valid_until=valid_until,
                max_years=max_years,
            )
        )
        await session.commit()
    container.catalog.invalidate()


# --- one rule per row: mailbox as mirrored, the item asked for, the issue expected --------

BLOCKING_CASES = [
    pytest.param(
        {"plan": "STANDARD", "auto_renewal": True},
        {},
        "auto_renewal_active",
        {},
        id="auto_renewal_active",
    ),
    pytest.param(
        {"plan": "STANDARD", "status": "DELETED"},
        {},
        "mailbox_deleted",
        {},
        id="mailbox_deleted_stored",
    ),
    pytest.param(
        {"plan": "STANDARD", "expires_on": TODAY - timedelta(days=91)},
        {},
        "mailbox_deleted",
        {},
        id="mailbox_deleted_derived_day_91",
    ),
    pytest.param(
        {"plan": "DOMAIN"},
        {"plan": "PRO"},
        "plan_change_not_allowed",
        {},
        id="plan_change_not_allowed_domain_to_pro",
    ),
    pytest.param(
        {"plan": "DOMAIN"},
        {"extra_mailbox_gb": 1},
        "plan_change_not_allowed",
        {},
        id="plan_change_not_allowed_domain_extra_space",
    ),
    pytest.param(
        {"plan": "PRO"},
        {"plan": "DOMAIN"},
        "plan_change_not_allowed",
        {},
        id="plan_change_not_allowed_pro_to_domain",
    ),
    pytest.param(
        {"plan": "STANDARD"},
        {"extra_mailbox_gb": 2},
        "extra_space_above_max",
        {"max_extra_mailbox_gb": 1},
        id="extra_space_above_max",
    ),
    pytest.param(
        {"plan": "PREMIUM", "used_mailbox_mb": 3000},
        {"plan": "STANDARD", "extra_mailbox_gb": 1},
        "free_space_required",
        {"mb_to_free": 3000 - 2048},
        id="free_space_required",
    ),
    pytest.param(
        {"plan": "STANDARD", "used_mailbox_mb": 1500},
        {},
        "insufficient_mailbox_space",
        {"smallest_extra_mailbox_gb": 1},
        id="insufficient_mailbox_space",
    ),
    pytest.param(
        {"plan": "STANDARD", "extra_mailbox_gb": 1, "used_mailbox_mb": 1025},
        {"extra_mailbox_gb": 0},
        "insufficient_mailbox_space",
        {"smallest_extra_mailbox_gb": 1},
        id="extra_space_cannot_be_dropped_while_in_use",
    ),
    pytest.param(
        {"plan": "PRO", "used_mailbox_mb": 5000},
        {},
        "insufficient_mailbox_space",
        {"smallest_extra_mailbox_gb": 3},
        id="insufficient_mailbox_space_pro_needs_3_gb",
    ),
    pytest.param(
        {"plan": "PRO", "used_archive_mb": 4000},
        {},
        "insufficient_archive_space",
        {"smallest_extra_archive_gb": 1},
        id="insufficient_archive_space",
    ),
    pytest.param(
        {"plan": "PREMIUM", "used_archive_mb": 7000},
        {"plan": "PRO"},
        "insufficient_archive_space",
        {"smallest_extra_archive_gb": 4},
        id="insufficient_archive_space_premium_to_pro",
    ),
    pytest.param(
        {"plan": "STANDARD"},
        {"extra_archive_gb": 1},
        "archive_not_available",
        {},
        id="archive_not_available",
    ),
]


@pytest.mark.parametrize(("mailbox", "item", "code", "numbers"), BLOCKING_CASES)
async def test_each_rule_is_data_in_a_blocked_quote(
    client: httpx.AsyncClient,
    db: Container,
    mailbox: dict[str, Any],
    item: dict[str, Any],
    code: str,
    numbers: dict[str, Any],
) -> None:
    fields = dict(mailbox)
    plan = fields.pop("plan")
    await put_mailbox(client, "mbx-1", plan, **fields)

    response = await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1", **item}])

    assert response.status_code == 201, response.text
    body = response.json()
    assert_blocked_with(body, code, **numbers)
    # still priced, so the frontend can show what the fix would cost
    assert body["lines"]
    assert body["total"]["currency"] == "EUR"
    # and stored: it reads back the same
    stored = await client.get(f"/v1/quotes/{body['id']}", headers=CUSTOMER)
    assert stored.status_code == 200
    assert stored.json() == body


async def test_mailbox_suspended_blocks_a_partner_renewal(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", status="SUSPENDED", partner_id="ptn-1")

    response = await quote(client, PARTNER, [{"mailbox_id": "mbx-1"}])

    assert response.status_code == 201, response.text
    item = assert_blocked_with(response.json(), "mailbox_suspended")
    assert item["mailbox_status"] == "SUSPENDED"


async def test_frequency_not_allowed_for_a_plan_on_promotion_for_three_years(
    client: httpx.AsyncClient, db: Container
) -> None:
    await add_promotion(db, "PRO", yearly_price_cents=1990, max_years=2)
    await put_mailbox(client, "mbx-1", "STANDARD", used_mailbox_mb=100)

    three = await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1", "plan": "PRO"}], years=3)
    two = await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1", "plan": "PRO"}], years=2)

    assert three.status_code == 201, three.text
    item = assert_blocked_with(three.json(), "frequency_not_allowed", max_years=2)
    assert item["promotion_applied"] is True
    assert "2" in item["issues"][0]["message"]
    plan_line = three.json()["lines"][0]
    assert (plan_line["kind"], plan_line["unit_price"]["amount"], plan_line["quantity"]) == (
        "plan",
        "19.90",
        3,
    )
    assert two.status_code == 201
    assert two.json()["status"] == "ok"
    assert two.json()["net"]["amount"] == "39.80"


async def test_a_promotion_on_another_plan_does_not_limit_the_years(
    client: httpx.AsyncClient, db: Container
) -> None:
    await add_promotion(db, "PRO")
    await put_mailbox(client, "mbx-1", "STANDARD")

    body = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}], years=5)).json()

    assert body["status"] == "ok"
    assert body["items"][0]["promotion_applied"] is False


async def test_an_ended_promotion_no_longer_limits_the_years(
    client: httpx.AsyncClient, db: Container
) -> None:
    await add_promotion(db, "PRO", valid_from=date(2026, 1, 1), valid_until=TODAY - timedelta(1))
    await put_mailbox(client, "mbx-1", "PRO")

    body = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}], years=3)).json()

    assert body["status"] == "ok"
    assert body["items"][0]["promotion_applied"] is False
    assert body["net"]["amount"] == "75.00"


async def test_day_90_after_expiry_is_still_in_grace_day_91_is_deleted(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-90", expires_on=TODAY - timedelta(days=90))
    await put_mailbox(client, "mbx-91", expires_on=TODAY - timedelta(days=91))

    body = (
        await quote(client, CUSTOMER, [{"mailbox_id": "mbx-90"}, {"mailbox_id": "mbx-91"}])
    ).json()

    in_grace, deleted = body["items"]
    assert (in_grace["mailbox_status"], codes(in_grace)) == ("EXPIRED", [])
    assert (deleted["mailbox_status"], codes(deleted)) == ("DELETED", ["mailbox_deleted"])


async def test_grace_is_counted_in_italian_days(
    client: httpx.AsyncClient, clock: MovableClock
) -> None:
    await put_mailbox(client, "mbx-1", expires_on=TODAY - timedelta(days=90))
    # 23:30 UTC is already the next day in Rome: day 91 after expiry
    clock.now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=23, minutes=30
    )

    body = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])).json()

    assert body["items"][0]["mailbox_status"] == "DELETED"
    assert codes(body["items"][0]) == ["mailbox_deleted"]


async def test_a_stored_active_status_past_expiry_is_expired_not_active(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", expires_on=TODAY - timedelta(days=1), status="ACTIVE")

    body = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])).json()

    assert body["status"] == "ok"
    assert body["items"][0]["mailbox_status"] == "EXPIRED"


async def test_several_rules_on_one_mailbox_are_all_reported(client: httpx.AsyncClient) -> None:
    await put_mailbox(
        client, "mbx-1", "STANDARD", status="DELETED", auto_renewal=True, used_mailbox_mb=1500
    )

    body = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1", "extra_archive_gb": 1}])).json()

    assert body["status"] == "blocked"
    assert set(codes(body["items"][0])) == {
        "mailbox_deleted",
        "auto_renewal_active",
        "archive_not_available",
        "insufficient_mailbox_space",
    }


# --- warnings never block ----------------------------------------------------------------


async def test_downgrade_pro_to_standard_only_warns(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", "PRO", used_mailbox_mb=500, used_archive_mb=700)

    response = await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1", "plan": "STANDARD"}])

    assert response.status_code == 201
    body = response.json()
    item = body["items"][0]
    assert body["status"] == "ok"
    assert item["blocked"] is False
    assert item["issues"] == []
    assert warning_codes(item) == ["archive_will_be_deleted", "features_lost"]
    archive, features = item["warnings"]
    assert archive["blocking"] is False
    assert archive["archived_mb"] == 700
    assert features["blocking"] is False
    assert features["features"] == ["sms_reports", "extra_users"]
    assert features["extra_users_lost"] == 1
    assert body["requires_archive_acknowledgement"] is True
    assert item["archive_quota_mb"] == 0
    assert body["net"]["amount"] == "9.90"


async def test_premium_to_pro_loses_extra_users_but_keeps_the_archive(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "PREMIUM", used_mailbox_mb=500, used_archive_mb=1000)

    body = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1", "plan": "PRO"}])).json()

    item = body["items"][0]
    assert body["status"] == "ok"
    assert warning_codes(item) == ["features_lost"]
    assert item["warnings"][0]["features"] == ["extra_users"]
    assert item["warnings"][0]["extra_users_lost"] == 2
    assert body["requires_archive_acknowledgement"] is False


async def test_warnings_are_kept_beside_blocking_issues(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", "PRO", used_mailbox_mb=2400, used_archive_mb=100)

    body = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1", "plan": "STANDARD"}])).json()

    item = body["items"][0]
    assert body["status"] == "blocked"
    assert codes(item) == ["free_space_required"]
    assert warning_codes(item) == ["archive_will_be_deleted", "features_lost"]


# --- prices -------------------------------------------------------------------------------


async def test_convention_code_gives_a_negative_discount_line(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", "PRO", extra_mailbox_gb=2, used_mailbox_mb=2500)

    response = await quote(
        client,
        CUSTOMER,
        [{"mailbox_id": "mbx-1"}],
        years=3,
        convention_code="ORDINE-AVVOCATI",
        signature_kit="SMART_CARD",
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["convention_code"] == "ORDINE-AVVOCATI"
    lines = [(line["kind"], line["amount"]["amount"]) for line in body["lines"]]
    # 10% of plan and extra space (93.00), not of the kit nor the shipping
    assert lines == [
        ("plan", "75.00"),
        ("extra_mailbox_space", "18.00"),
        ("convention_discount", "-9.30"),
        ("signature_kit", "25.00"),
        ("shipping", "9.90"),
    ]
    discount = body["lines"][2]
    assert discount["code"] == "ORDINE-AVVOCATI"
    assert discount["mailbox_id"] is None
    assert discount["unit_price"]["amount"] == "-9.30"
    # 75.00 + 18.00 - 9.30 + 25.00 + 9.90 = 118.60; VAT 22% = 26.092 → 26.09
    assert (body["net"]["amount"], body["vat"]["amount"], body["total"]["amount"]) == (
        "118.60",
        "26.09",
        "144.69",
    )


async def test_convention_code_is_matched_ignoring_case_and_spaces(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD")

    body = (
        await quote(
            client, CUSTOMER, [{"mailbox_id": "mbx-1"}], convention_code=" ordine-avvocati "
        )
    ).json()

    assert body["convention_code"] == "ORDINE-AVVOCATI"
    assert body["lines"][-1]["amount"]["amount"] == "-0.99"
    assert body["net"]["amount"] == "8.91"


async def test_convention_code_still_valid_on_its_last_italian_day(
    client: httpx.AsyncClient, clock: MovableClock
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=date(2028, 1, 20))
    clock.now = datetime(2027, 12, 31, 22, 59, tzinfo=UTC)  # 23:59 in Rome

    response = await quote(
        client, CUSTOMER, [{"mailbox_id": "mbx-1"}], convention_code="ORDINE-AVVOCATI"
    )

    assert response.status_code == 201, response.text
    assert response.json()["lines"][-1]["kind"] == "convention_discount"


@pytest.mark.parametrize(
    ("convention_code", "moment"),
    [
        pytest.param("NO-SUCH-CODE", None, id="unknown"),
        pytest.param("ORDINE-AVVOCATI", datetime(2028, 3, 1, 10, tzinfo=UTC), id="expired"),
        # 23:00 UTC on 31 Dec 2027 is already 1 Jan 2028 in Rome
        pytest.param(
            "ORDINE-AVVOCATI", datetime(2027, 12, 31, 23, 0, tzinfo=UTC), id="expired_in_rome"
        ),
    ],
)
async def test_unknown_or_expired_convention_code_is_a_422(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    convention_code: str,
    moment: datetime | None,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=date(2028, 4, 1))
    if moment is not None:
        clock.now = moment

    response = await quote(
        client, CUSTOMER, [{"mailbox_id": "mbx-1"}], convention_code=convention_code
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "convention_code_invalid"
    assert problem["status"] == 422
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("convention_code", "convention_code_invalid")
    ]


async def test_signature_kit_and_shipping_are_charged_once_per_quote(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD")
    await put_mailbox(client, "mbx-2", "PRO")

    body = (
        await quote(
            client,
            CUSTOMER,
            [{"mailbox_id": "mbx-1"}, {"mailbox_id": "mbx-2"}],
            years=3,
            signature_kit="USB_TOKEN",
        )
    ).json()

    kit_lines = [line for line in body["lines"] if line["kind"] in ("signature_kit", "shipping")]
    assert [
        (line["kind"], line["code"], line["quantity"], line["amount"]["amount"])
        for line in kit_lines
    ] == [
        ("signature_kit", "USB_TOKEN", 1, "35.00"),
        ("shipping", "kit_shipping", 1, "9.90"),
    ]
    assert all(line["mailbox_id"] is None for line in kit_lines)
    assert body["signature_kit"] == "USB_TOKEN"
    # 9.90×3 + 25.00×3 + 35.00 + 9.90 = 149.60
    assert body["net"]["amount"] == "149.60"


async def test_renewal_in_grace_gains_no_days(client: httpx.AsyncClient) -> None:
    expired_on = TODAY - timedelta(days=30)
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=expired_on)

    body = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}], years=2)).json()

    item = body["items"][0]
    assert body["status"] == "ok"
    assert item["mailbox_status"] == "EXPIRED"
    assert item["current_expiry"] == expired_on.isoformat()
    assert item["new_expiry"] == expired_on.replace(year=expired_on.year + 2).isoformat()


async def test_29_february_plus_one_year_is_28_february(
    client: httpx.AsyncClient, clock: MovableClock
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=date(2028, 2, 29))
    clock.now = datetime(2028, 3, 10, 10, tzinfo=UTC)  # in grace

    body = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])).json()

    assert body["status"] == "ok"
    assert body["items"][0]["new_expiry"] == "2029-02-28"


async def test_one_blocked_mailbox_blocks_the_quote_but_all_are_priced(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-ok", "STANDARD")
    await put_mailbox(client, "mbx-auto", "PRO", auto_renewal=True)
    await put_mailbox(client, "mbx-premium", "PREMIUM", extra_mailbox_gb=1)

    response = await quote(
        client,
        CUSTOMER,
        [{"mailbox_id": "mbx-ok"}, {"mailbox_id": "mbx-auto"}, {"mailbox_id": "mbx-premium"}],
        years=2,
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "blocked"
    assert [(i["mailbox_id"], i["blocked"], codes(i)) for i in body["items"]] == [
        ("mbx-ok", False, []),
        ("mbx-auto", True, ["auto_renewal_active"]),
        ("mbx-premium", False, []),
    ]
    priced = [
        (line["mailbox_id"], line["kind"], line["amount"]["amount"]) for line in body["lines"]
    ]
    assert priced == [
        ("mbx-ok", "plan", "19.80"),
        ("mbx-auto", "plan", "50.00"),
        ("mbx-premium", "plan", "80.00"),
        ("mbx-premium", "extra_mailbox_space", "6.00"),
    ]
    # 155.80 net, VAT 34.276 → 34.28
    assert (body["net"]["amount"], body["vat"]["amount"], body["total"]["amount"]) == (
        "155.80",
        "34.28",
        "190.08",
    )
