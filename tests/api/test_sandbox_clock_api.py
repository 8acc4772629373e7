"""The sandbox's test clock over HTTP: a frontend moves "now" forward and watches a
mailbox without automatic renewal get its reminders and be deleted 91 days after expiry,
reading what was sent from GET /v1/sandbox/messages. The clock never goes back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from app.container import Container, build_container
from app.domain.saved_payment_method import SavedPaymentMethod
from app.main import create_app
from tests.api.helpers import TODAY, put_mailbox
from tests.api.order_helpers import PERSON, new_key, order_body, quote_id_for
from tests.conftest import CUSTOMER, OTHER_CUSTOMER, STAFF, START, MovableClock

EXPIRY = TODAY + timedelta(days=40)  # 2027-01-04


@pytest.fixture
async def sandbox(db: Container, clock: MovableClock) -> AsyncIterator[httpx.AsyncClient]:
    """The api in sandbox mode on the test database (no SMTP, no mail platform: the
    outbox is delivered to the log), without its background worker loop."""
    settings = db.settings.model_copy(update={"sandbox": True})
    container = build_container(settings, clock=clock, engine=db.engine)
    app = create_app(container=container)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def _messages(sandbox: httpx.AsyncClient, mailbox_id: str) -> list[dict[str, object]]:
    answer = await sandbox.get(
        "/v1/sandbox/messages", params={"mailbox_id": mailbox_id}, headers=CUSTOMER
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, object]] = answer.json()["items"]
    return items


async def test_moving_the_clock_shows_the_reminders_then_the_deletion_on_day_91(
    sandbox: httpx.AsyncClient,
) -> None:
    await put_mailbox(sandbox, "mbx-1", expires_on=EXPIRY)
    stands = await sandbox.get("/v1/sandbox/clock", headers=CUSTOMER)
    assert stands.status_code == 200
    assert stands.json()["now"] == "2026-11-25T10:00:00Z"

    # to the day before the deletion: every reminder, no deletion yet
    day_90 = START + timedelta(days=130)
    moved = await sandbox.put(
        "/v1/sandbox/clock", json={"now": day_90.isoformat()}, headers=CUSTOMER
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["today"] == "2027-04-04"
    assert body["previous_now"] == "2026-11-25T10:00:00Z"
    assert body["days_run"] == 130
    assert body["ahead_by_seconds"] == 130 * 24 * 3600
    assert body["milestones"] == {
        "lifecycle_reminder_-90": 1,  # sent on the first day: due until the 30-day one
        "lifecycle_reminder_-30": 1,
        "lifecycle_reminder_-15": 1,
        "lifecycle_reminder_-7": 1,
        "lifecycle_expiry_day": 1,
        "lifecycle_grace_30": 1,
        "lifecycle_grace_60": 1,
    }
    assert body["queued"] == {"email": 7}
    shown = await sandbox.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)
    assert shown.json()["status"] == "EXPIRED"

    moved = await sandbox.put(
        "/v1/sandbox/clock",
        json={"now": (day_90 + timedelta(days=1)).isoformat()},
        headers=CUSTOMER,
    )
    assert moved.json()["milestones"] == {"lifecycle_deletion": 1}
    assert moved.json()["queued"] == {"email": 1, "mail_platform": 1}

    log = await _messages(sandbox, "mbx-1")
    emails = [m for m in log if m["kind"] == "email"]
    assert [date.fromisoformat(str(m["queued_at"])[:10]) - EXPIRY for m in emails] == [
        timedelta(days=d) for d in (-39, -30, -15, -7, 0, 30, 60, 91)
    ]
    assert emails[0]["subject"] == "La casella PEC mbx-1@pec.example.it scade il 04/01/2027"
    assert emails[-1]["subject"] == "La casella PEC mbx-1@pec.example.it è stata cancellata"
    assert all(m["to"] == "mario@example.it" and m["delivered_at"] for m in emails)
    [platform] = [m for m in log if m["kind"] == "mail_platform"]
    assert platform["action"] == "deletion"
    assert platform["queued_at"] == "2027-04-05T10:00:00Z"  # 91 days after 2027-01-04
    shown = await sandbox.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)
    assert shown.json()["status"] == "DELETED"

    # someone else's mailbox has no log to show them
    hidden = await sandbox.get(
        "/v1/sandbox/messages", params={"mailbox_id": "mbx-1"}, headers=OTHER_CUSTOMER
    )
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "mailbox_not_found"


async def test_the_clock_never_goes_back_nor_jumps_too_far(sandbox: httpx.AsyncClient) -> None:
    forward = (START + timedelta(days=2)).isoformat()
    assert (
        await sandbox.put("/v1/sandbox/clock", json={"now": forward}, headers=CUSTOMER)
    ).status_code == 200

    back = await sandbox.put(
        "/v1/sandbox/clock",
        json={"now": (START + timedelta(days=1)).isoformat()},
        headers={**CUSTOMER, "Accept-Language": "en"},
    )
    assert back.status_code == 409
    assert back.headers["content-type"] == "application/problem+json"
    assert back.json()["code"] == "clock_backwards"
    assert back.json()["now"] == "2026-11-27T10:00:00+00:00"
    assert "only moves forward" in back.json()["detail"]

    far = await sandbox.put(
        "/v1/sandbox/clock",
        json={"now": (START + timedelta(days=2000)).isoformat()},
        headers=CUSTOMER,
    )
    assert far.status_code == 422
    assert far.json()["code"] == "clock_jump_too_far"
    assert far.json()["max_days"] == 1100

    naive = await sandbox.put(
        "/v1/sandbox/clock", json={"now": "2027-01-01T00:00:00"}, headers=CUSTOMER
    )
    assert naive.status_code == 422
    assert naive.json()["code"] == "validation_failed"
    stands = await sandbox.get("/v1/sandbox/clock", headers=CUSTOMER)
    assert stands.json()["now"] == "2026-11-27T10:00:00Z"


async def test_outside_the_sandbox_the_clock_and_log_are_not_there(
    client: httpx.AsyncClient,
) -> None:
    for answer in (
        await client.get("/v1/sandbox/clock", headers=CUSTOMER),
        await client.put(
            "/v1/sandbox/clock", json={"now": "2027-01-01T00:00:00Z"}, headers=CUSTOMER
        ),
        await client.get("/v1/sandbox/messages", params={"mailbox_id": "x"}, headers=CUSTOMER),
    ):
        assert answer.status_code == 404
        assert answer.json()["code"] == "sandbox_only"


async def test_an_order_is_paid_in_the_sandbox_after_the_clock_moved(
    sandbox: httpx.AsyncClient,
) -> None:
    # webhooks are signed at the real time: a clock moved ahead mustn't make them stale
    await put_mailbox(sandbox, "mbx-1", expires_on=EXPIRY)
    later = (START + timedelta(days=20)).isoformat()
    assert (
        await sandbox.put("/v1/sandbox/clock", json={"now": later}, headers=CUSTOMER)
    ).status_code == 200
    quote_id = await quote_id_for(sandbox, CUSTOMER, [{"mailbox_id": "mbx-1"}], 1)
    order = await sandbox.post(
        "/v1/orders", json=order_body(quote_id, "card"), headers=new_key(CUSTOMER)
    )
    assert order.status_code == 201, order.text

    paid = await sandbox.post(f"/v1/sandbox/orders/{order.json()['id']}/pay", headers=CUSTOMER)

    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "FULFILLED"


async def test_a_mailbox_with_automatic_renewal_is_renewed_when_the_clock_passes_seven_days_before(
    sandbox: httpx.AsyncClient, db: Container
) -> None:
    expiry = TODAY + timedelta(days=20)
    await put_mailbox(sandbox, "mbx-1", "PRO", expires_on=expiry, auto_renewal=True)
    holder = {"holder": PERSON, "billing": {"e_invoicing": None, "public_administration": None}}
    account = {"name": "Mario Rossi", "email": "mario@example.it", "language": "it", **holder}
    on_file = await sandbox.put("/v1/admin/accounts/acc-1", json=account, headers=STAFF)
    assert on_file.status_code == 200, on_file.text
    async with db.unit_of_work() as uow:  # a card saved by an earlier purchase
        await uow.saved_methods.add(
            SavedPaymentMethod(
                "pm-1", "acc-1", "stripe", "card", "cus_1", "pm_card_visa", "ord_earlier", START
            )
        )
        await uow.commit()

    day_before = START + timedelta(days=12)  # 8 days before the expiry: nothing yet
    moved = await sandbox.put(
        "/v1/sandbox/clock", json={"now": day_before.isoformat()}, headers=CUSTOMER
    )
    assert moved.status_code == 200, moved.text
    assert (await sandbox.get("/v1/orders", headers=CUSTOMER)).json()["items"] == []
    notice = [m for m in await _messages(sandbox, "mbx-1") if m["kind"] == "email"]
    assert len(notice) == 1  # the notice before the charge, and no reminder

    moved = await sandbox.put(
        "/v1/sandbox/clock",
        json={"now": (day_before + timedelta(days=1)).isoformat()},
        headers=CUSTOMER,
    )
    assert moved.status_code == 200, moved.text
    [order] = (await sandbox.get("/v1/orders", headers=CUSTOMER)).json()["items"]
    assert order["placed_automatically"] is True
    assert order["status"] == "FULFILLED"
    shown = (await sandbox.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert shown["expires_on"] == expiry.replace(year=expiry.year + 1).isoformat()
    assert shown["auto_renewal"] is True
