"""Partners' tacit renewals on PostgreSQL, with the tests' clock: renewed once from the
credit however many sweeps run, waiting (and told) when the credit is short, retried the
next day; under 50 concurrent renewals the credit pays exactly what it covers."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from app.container import Container
from app.domain.renewal_mode import RenewalMode, RenewalModeKind
from app.services.sweeps import SweepContext
from app.services.tacit_renewals import TacitOutcome, renew_tacitly, tacit_renewals
from tests.conftest import START, MovableClock
from tests.integration.tacit_setup import (
    PARTNER_EMAIL,
    STANDARD_YEAR,
    balance,
    emails_to_partner,
    ledger_explains_balance,
    partner_events,
    scalar,
    set_up_partner,
    small_pool,
    tacit_mailboxes,
    top_up,
)

pytestmark = pytest.mark.db
EXPIRY = date(2026, 11, 30)  # 5 days after START: inside the 7-day window


async def test_a_tacit_renewal_is_paid_once_however_many_sweeps_run(db: Container) -> None:
    await set_up_partner(db, START)
    await tacit_mailboxes(db, ["mbx-t"], EXPIRY, START)

    async with small_pool(db) as uow_factory:
        context = SweepContext(uow_factory, START)
        first = await asyncio.gather(tacit_renewals(context), tacit_renewals(context))
        again = await tacit_renewals(context)

    assert sorted(first) == [0, 1]
    assert again == 0
    assert await balance(db) == 10_000 - STANDARD_YEAR
    assert await scalar(db, "SELECT count(*) FROM orders") == 1
    assert await scalar(db, "SELECT status FROM orders") == "FULFILLED"
    assert await scalar(db, "SELECT payment_method FROM orders") == "partner_credit"
    assert await scalar(db, "SELECT expires_on FROM mailboxes WHERE id = 'mbx-t'") == date(
        2027, 11, 30
    )
    completed = await partner_events(db, "renewal.completed")
    assert [(e["partner_id"], e["data"]["mailbox_id"]) for e in completed] == [("ptn-1", "mbx-t")]
    assert completed[0]["data"]["expires_on"] == "2027-11-30"
    assert await ledger_explains_balance(db)


async def test_not_renewed_before_the_window_nor_in_at_expiry_mode(db: Container) -> None:
    await set_up_partner(db, START)
    await tacit_mailboxes(db, ["mbx-early"], START.date() + timedelta(days=8), START)
    await tacit_mailboxes(db, ["mbx-hand"], EXPIRY, START)
    async with db.unit_of_work() as uow:
        by_hand = RenewalMode(RenewalModeKind.AT_EXPIRY, 1, START)
        await uow.renewal_modes.put("mbx-hand", "ptn-1", by_hand)
        await uow.commit()

    assert await tacit_renewals(SweepContext(db.unit_of_work, START)) == 0
    assert await scalar(db, "SELECT count(*) FROM orders") == 0


async def test_short_credit_waits_tells_the_partner_and_is_retried_the_next_day(
    db: Container, clock: MovableClock
) -> None:
    await set_up_partner(db, START)
    await tacit_mailboxes(db, ["mbx-t"], EXPIRY, START, plan_code="PREMIUM", years=5)

    waited = await renew_tacitly(db.unit_of_work, "mbx-t", clock.now)
    same_day = await tacit_renewals(SweepContext(db.unit_of_work, clock.now))

    assert waited is TacitOutcome.WAITING
    assert same_day == 0  # told once a day, not on every pass
    assert await scalar(db, "SELECT count(*) FROM orders") == 0  # no order left behind
    assert await scalar(db, "SELECT count(*) FROM quotes") == 0
    assert await balance(db) == 10_000
    [failed] = await partner_events(db, "payment.failed")
    assert failed["data"]["reason"] == "insufficient_credit"
    assert failed["data"]["needed"] == {"amount": "244.00", "currency": "EUR"}
    assert failed["data"]["available"] == {"amount": "100.00", "currency": "EUR"}
    assert failed["data"]["retry_on"] == "2026-11-26"
    [email] = await emails_to_partner(db)
    assert email["to"] == PARTNER_EMAIL
    assert "244.00 EUR" in email["text"]
    assert "2026-11-26" in email["text"]

    await top_up(db, 20_000, clock.now)
    assert await tacit_renewals(SweepContext(db.unit_of_work, clock.now)) == 0  # tomorrow
    clock.advance(timedelta(days=1))
    renewed = await tacit_renewals(SweepContext(db.unit_of_work, clock.now))

    assert renewed == 1
    assert await balance(db) == 30_000 - 24_400
    assert await scalar(db, "SELECT status FROM orders") == "FULFILLED"
    assert await scalar(db, "SELECT expires_on FROM mailboxes WHERE id = 'mbx-t'") == date(
        2031, 11, 30
    )
    assert len(await partner_events(db, "renewal.completed")) == 1
    assert len(await partner_events(db, "payment.failed")) == 1
    assert await ledger_explains_balance(db)


async def test_fifty_concurrent_tacit_renewals_pay_exactly_what_the_credit_covers(
    db: Container,
) -> None:
    await set_up_partner(db, START)
    ids = [f"mbx-{n:02d}" for n in range(50)]
    await tacit_mailboxes(db, ids, EXPIRY, START)
    await top_up(db, 30 * STANDARD_YEAR - 10_000, START)  # the credit covers 30

    async with small_pool(db, 5) as uow_factory:
        context = SweepContext(uow_factory, START)
        outcomes = await asyncio.gather(
            *(renew_tacitly(uow_factory, mailbox_id, START) for mailbox_id in ids * 2),
            tacit_renewals(context),
            tacit_renewals(context),
        )

    assert outcomes[:100].count(TacitOutcome.RENEWED) <= 30
    assert await scalar(db, "SELECT count(*) FROM orders WHERE status = 'FULFILLED'") == 30
    assert await scalar(db, "SELECT count(*) FROM orders") == 30  # none left unpaid
    assert await scalar(db, "SELECT count(*) FROM pending_renewals") == 0
    assert await balance(db) == 0
    assert await ledger_explains_balance(db)
    assert await scalar(db, "SELECT min(balance_after_cents) FROM partner_credit_movements") >= 0
    renewed_ids = {e["data"]["mailbox_id"] for e in await partner_events(db, "renewal.completed")}
    waiting_ids = {e["data"]["mailbox_id"] for e in await partner_events(db, "payment.failed")}
    assert len(renewed_ids) == 30
    assert len(await partner_events(db, "renewal.completed")) == 30
    assert len(await partner_events(db, "payment.failed")) == 20
    assert renewed_ids | waiting_ids == set(ids)


async def test_the_low_credit_alert_comes_once_per_crossing(db: Container) -> None:
    await set_up_partner(db, START, threshold_cents=5_000)
    # 100.00 less 12.08 a renewal: the 5th goes from 51.68 to 39.60, below 50.00.
    await tacit_mailboxes(db, [f"mbx-a{n}" for n in range(6)], EXPIRY, START)
    await tacit_renewals(SweepContext(db.unit_of_work, START))

    [low] = await partner_events(db, "credit.low")
    assert low["data"]["balance"] == {"amount": "39.60", "currency": "EUR"}
    assert low["data"]["threshold"] == {"amount": "50.00", "currency": "EUR"}

    await top_up(db, 10_000, START)  # 127.52: above the threshold again
    await tacit_mailboxes(db, [f"mbx-b{n}" for n in range(7)], EXPIRY, START)
    await tacit_renewals(SweepContext(db.unit_of_work, START))

    lows = await partner_events(db, "credit.low")
    assert [e["data"]["balance"]["amount"] for e in lows] == ["39.60", "42.96"]
    assert len({e["id"] for e in lows}) == 2
    subjects = [e["subject"] for e in await emails_to_partner(db)]
    assert subjects == [
        "Prepaid credit below your threshold: 39.60 EUR",
        "Prepaid credit below your threshold: 42.96 EUR",
    ]
    assert await ledger_explains_balance(db)
