"""Tacit renewals on the fakes: the edge cases of when one is tried and why one waits,
and what a partner may record as its mode."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.access import Principal, Role
from app.domain.account import Account
from app.domain.billing import Billing
from app.domain.catalog import Promotion
from app.domain.errors import InvalidRequest
from app.domain.holder_record import HolderRecord
from app.domain.mailbox import Mailbox, MailboxStatus
from app.domain.partner import Partner, PartnerProfile
from app.domain.renewal_mode import RenewalMode, RenewalModeKind
from app.sandbox.demo_catalog import demo_price_list
from app.services.errors import MailboxNotRenewable
from app.services.renewal_modes import set_renewal_mode
from app.services.tacit_renewals import TacitOutcome, renew_tacitly
from tests.fakes import FakeDatabase
from tests.fakes.tables import StoredPriceList
from tests.unit.builders import PERSON, mailbox

EXPIRY = date(2026, 7, 31)
PARTNER = Principal(Role.PARTNER, "ptn-1")
TACIT = RenewalMode(RenewalModeKind.TACIT, 1, datetime(2026, 6, 1, tzinfo=UTC))


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def shop(
    box: Mailbox | None = None,
    *,
    holder: bool = True,
    mode: RenewalMode = TACIT,
    mode_by: str = "ptn-1",
    promotions: tuple[Promotion, ...] = (),
) -> FakeDatabase:
    db = FakeDatabase()
    record = HolderRecord(PERSON, Billing()) if holder else None
    db.tables.accounts["acc-p"] = Account("acc-p", "Anna Neri", "anna@example.com", "en", record)
    profile = PartnerProfile("ptn-1", "Web Reseller", "ops@reseller.example.it", "en", 0)
    db.tables.partners["ptn-1"] = Partner(profile, 10_000, None, None)
    price_list = demo_price_list(promotions=promotions)
    db.tables.price_lists[price_list.id] = StoredPriceList(price_list, None, None)
    box = box or mailbox(account_id="acc-p", partner_id="ptn-1", expires_on=EXPIRY)
    db.tables.mailboxes[box.id] = box
    db.tables.renewal_modes[box.id] = (mode_by, mode)
    return db


def events(db: FakeDatabase, event_type: str) -> list[dict[str, object]]:
    queued = [m.payload for m in db.tables.outbox.values() if m.kind == "partner_webhook"]
    return [p for p in queued if p["type"] == event_type]


@pytest.mark.parametrize(
    ("days_before", "outcome"),
    [
        (8, TacitOutcome.SKIPPED),
        (7, TacitOutcome.RENEWED),
        (0, TacitOutcome.RENEWED),
        (-1, TacitOutcome.SKIPPED),  # expired: the partner renews it by hand
    ],
)
async def test_tried_from_seven_days_before_through_the_expiry_day(
    days_before: int, outcome: TacitOutcome
) -> None:
    db = shop()

    done = await renew_tacitly(db.uow_factory, "mbx-1", at(EXPIRY - timedelta(days=days_before)))

    assert done is outcome
    assert len(events(db, "renewal.completed")) == (outcome is TacitOutcome.RENEWED)
    renewed = db.tables.mailboxes["mbx-1"].expires_on == date(2027, 7, 31)
    assert renewed is (outcome is TacitOutcome.RENEWED)


async def test_renewed_for_the_recorded_years_with_the_holder_on_file() -> None:
    db = shop(mode=replace(TACIT, years=3))

    assert await renew_tacitly(db.uow_factory, "mbx-1", at(EXPIRY)) is TacitOutcome.RENEWED

    [stored] = db.tables.orders.values()
    assert stored.order.years == 3
    assert stored.order.holder.holder == PERSON
    assert stored.order.holder_from_file
    assert db.tables.partners["ptn-1"].credit_cents == 10_000 - 3623  # 3 × 9.90 + VAT


@pytest.mark.parametrize(
    "setup",
    [
        {"mode": RenewalMode(RenewalModeKind.AT_EXPIRY, 1)},
        {"mode_by": "ptn-before"},  # set by the partner that managed it before
    ],
)
async def test_not_tried_unless_its_partner_chose_tacit(setup: dict[str, object]) -> None:
    db = shop(**setup)  # type: ignore[arg-type]

    assert await renew_tacitly(db.uow_factory, "mbx-1", at(EXPIRY)) is TacitOutcome.SKIPPED
    assert not db.tables.outbox


async def test_a_blocked_quote_waits_and_says_what_to_fix() -> None:
    box = mailbox(account_id="acc-p", partner_id="ptn-1", expires_on=EXPIRY, auto_renewal=True)
    db = shop(box)

    assert await renew_tacitly(db.uow_factory, "mbx-1", at(EXPIRY)) is TacitOutcome.WAITING

    [failed] = events(db, "payment.failed")
    assert failed["data"] == {
        "mailbox_id": "mbx-1",
        "address": box.address,
        "expires_on": "2026-07-31",
        "renewal": "tacit",
        "reason": "quote_blocked",
        "needed": None,
        "available": None,
        "issues": ["auto_renewal_active"],
        "retry_on": None,  # the expiry day was the last attempt
    }
    assert not db.tables.orders
    assert not db.tables.quotes


async def test_without_a_holder_on_file_it_waits_for_one() -> None:
    db = shop(holder=False)

    assert await renew_tacitly(db.uow_factory, "mbx-1", at(EXPIRY - timedelta(days=3)))

    [failed] = events(db, "payment.failed")
    assert failed["data"]["reason"] == "holder_required"  # type: ignore[index]
    assert failed["data"]["retry_on"] == "2026-07-29"  # type: ignore[index]
    assert not db.tables.orders
    assert db.tables.partners["ptn-1"].credit_cents == 10_000


async def test_on_a_promoted_plan_the_years_are_at_most_the_promotions() -> None:
    now = at(date(2026, 6, 15))
    offer = Promotion("STANDARD", 800, date(2026, 6, 1), date(2026, 12, 31), max_years=2)
    db = shop(promotions=(offer,))

    with pytest.raises(InvalidRequest) as refused:
        await set_renewal_mode(db.unit_of_work(), PARTNER, "mbx-1", RenewalModeKind.TACIT, 3, now)
    kept = await set_renewal_mode(
        db.unit_of_work(), PARTNER, "mbx-1", RenewalModeKind.TACIT, 2, now
    )

    [error] = refused.value.errors
    assert (error.field, error.code, dict(error.params)) == (
        "years",
        "frequency_not_allowed",
        {"min": 1, "max": 2},
    )
    assert kept.mode == RenewalMode(RenewalModeKind.TACIT, 2, now)


async def test_a_deleted_mailbox_cannot_turn_tacit() -> None:
    box = mailbox(
        account_id="acc-p", partner_id="ptn-1", expires_on=EXPIRY, status=MailboxStatus.DELETED
    )
    db = shop(box)

    with pytest.raises(MailboxNotRenewable):
        await set_renewal_mode(
            db.unit_of_work(), PARTNER, "mbx-1", RenewalModeKind.TACIT, None, at(EXPIRY)
        )
