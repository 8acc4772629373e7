"""When a plan change takes effect (docs/renewal-rules.md, domain.md): properties of the
downgrade test, of the effective day, and of what fulfilment does now and later."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.calendar import add_years, italian_date
from app.domain.catalog import Plan
from app.domain.mailbox import Mailbox
from app.domain.money import Money
from app.domain.order import PaymentMethod
from app.domain.order_items import MailboxChange, OrderItem
from app.domain.payment_instructions import payment_instructions
from app.domain.plan_change import (
    Allowance,
    TakesEffect,
    effective_on,
    is_downgrade,
    takes_effect,
)
from app.domain.quote import RenewalItem, RenewalRequest, quote_renewal
from app.sandbox.demo_catalog import demo_price_list
from app.services.confirmation_email import confirmation_email, worded
from tests.unit.builders import NOW, mailbox
from tests.unit.test_confirmation_email import ACCOUNTS

CATALOG = demo_price_list()
PLANS = st.sampled_from(sorted(CATALOG.plans.values(), key=lambda p: p.code))
GB = st.integers(min_value=0, max_value=20)
TODAY = italian_date(NOW)
DAYS = st.integers(min_value=-89, max_value=800)  # expiry relative to today, within grace


def _box(plan: Plan, extra_mailbox: int, extra_archive: int, expiry_in_days: int = 30) -> Mailbox:
    return mailbox(
        plan_code=plan.code,
        extra_mailbox_gb=extra_mailbox,
        extra_archive_gb=extra_archive,
        used_archive_mb=700,
        expires_on=TODAY + timedelta(days=expiry_in_days),
    )


@given(PLANS, GB, GB)
def test_renewing_as_it_is_never_waits(plan: Plan, extra_mailbox: int, extra_archive: int) -> None:
    box = _box(plan, extra_mailbox, extra_archive)
    assert not is_downgrade(box, plan, plan, extra_mailbox, extra_archive)


@given(PLANS, GB, GB, st.integers(min_value=1, max_value=5))
def test_more_space_is_an_upgrade_less_is_a_downgrade(
    plan: Plan, extra_mailbox: int, extra_archive: int, more: int
) -> None:
    box = _box(plan, extra_mailbox, extra_archive)
    assert not is_downgrade(box, plan, plan, extra_mailbox + more, extra_archive)
    if extra_mailbox >= more:
        assert is_downgrade(box, plan, plan, extra_mailbox - more, extra_archive)


@given(PLANS, PLANS, GB, GB, GB, GB)
def test_a_change_either_way_that_takes_nothing_changes_nothing(
    a: Plan, b: Plan, a_mailbox: int, a_archive: int, b_mailbox: int, b_archive: int
) -> None:
    """If neither direction takes anything away, both have exactly the same."""
    there = is_downgrade(_box(a, a_mailbox, a_archive), a, b, b_mailbox, b_archive)
    back = is_downgrade(_box(b, b_mailbox, b_archive), b, a, a_mailbox, a_archive)
    if not there and not back:
        assert Allowance.of(a, a_mailbox, a_archive) == Allowance.of(b, b_mailbox, b_archive)


def test_the_mixed_cases_follow_the_totals() -> None:
    standard, pro, premium = (CATALOG.plans[c] for c in ("STANDARD", "PRO", "PREMIUM"))
    # plan up, extra space down, the same 2 GB in all: an upgrade, at payment
    assert not is_downgrade(_box(standard, 1, 0), standard, pro, 0, 0)
    # plan up (archive, users) but 7 GB → 2 GB of mailbox: a downgrade, all of it waits
    assert is_downgrade(_box(pro, 5, 0), pro, premium, 0, 0)
    assert is_downgrade(_box(pro, 0, 0), pro, standard, 0, 0)  # the archive goes


@given(st.booleans(), DAYS)
def test_only_a_downgrade_of_a_mailbox_not_yet_expired_waits(downgrade: bool, days: int) -> None:
    expires_on = TODAY + timedelta(days=days)
    when = takes_effect(downgrade, expires_on, TODAY)
    day = effective_on(downgrade, expires_on, TODAY)
    if downgrade and days >= 0:
        assert (when, day) == (TakesEffect.AT_EXPIRY, expires_on + timedelta(days=1))
    else:
        assert (when, day) == (TakesEffect.AT_PAYMENT, TODAY)
    assert day >= TODAY


@given(PLANS, PLANS, GB, GB, GB, DAYS, st.integers(min_value=1, max_value=5))
def test_fulfilment_moves_the_expiry_now_and_the_plan_when_its_day_comes(
    current: Plan,
    target: Plan,
    extra_mailbox: int,
    new_mailbox: int,
    new_archive: int,
    days: int,
    years: int,
) -> None:
    box = _box(current, extra_mailbox, 0, days)
    archive = new_archive if target.extra_archive_allowed else 0
    request = RenewalRequest(years, (RenewalItem(box.id, target.code, new_mailbox, archive),))
    [quoted] = quote_renewal(request, {box.id: box}, CATALOG, NOW).items
    item = OrderItem.of(quoted)
    change = MailboxChange.renewal(
        item, box, years, turns_auto_renewal_on=False, order_id="ord-1", today=TODAY
    )
    assert change.expires_on == add_years(box.expires_on, years)  # always, at payment
    at_once = MailboxChange.renewal(
        replace(item, downgrade=False), box, years,
        turns_auto_renewal_on=False, order_id="ord-1", today=TODAY,
    )  # fmt: skip
    if change.scheduled is None:
        assert change == at_once
        assert not (quoted.downgrade and days >= 0)
    else:
        assert quoted.downgrade
        assert days >= 0
        # nothing changes now but the expiry; the day after it, what an upgrade gets now
        kept = (box.plan_code, box.extra_mailbox_gb, box.extra_archive_gb, False)
        now_as = (change.plan_code, change.extra_mailbox_gb, change.extra_archive_gb)
        assert (*now_as, change.deletes_archive) == kept
        assert change.scheduled.effective_on == box.expires_on + timedelta(days=1)
        assert change.scheduled.effective_on == quoted.effective_on
        later = change.scheduled.applied_to(box)
        assert (later.plan_code, later.extra_mailbox_gb, later.extra_archive_gb) == (
            at_once.plan_code,
            at_once.extra_mailbox_gb,
            at_once.extra_archive_gb,
        )
        assert later.used_archive_mb == (0 if at_once.deletes_archive else box.used_archive_mb)


def test_the_confirmation_says_when_a_downgrade_takes_effect() -> None:
    box = mailbox(plan_code="PRO", expires_on=date(2026, 9, 30))
    request = RenewalRequest(1, (RenewalItem(box.id, "STANDARD"),))
    [quoted] = quote_renewal(request, {box.id: box}, CATALOG, NOW).items
    instructions = payment_instructions(
        PaymentMethod.BANK_TRANSFER, "ord-1", "PEC-1", 1208, "EUR", ACCOUNTS
    )
    texts = {
        language: worded(
            confirmation_email(
                language=language,
                number="PEC-1",
                holder_name="Mario Rossi",
                to="m@example.it",
                years=1,
                items=[OrderItem.of(quoted)],
                net=Money(990),
                vat=Money(218),
                total=Money(1208),
                payable=Money(1208),
                split_payment=False,
                instructions=instructions,
                placed_on=TODAY,
            )
        )["text"]
        for language in ("it", "en")
    }
    assert "il cambio ha effetto dal 2026-10-01" in texts["it"]
    assert "(il 2026-10-01, non prima)" in texts["it"]
    assert "the change takes effect on 2026-10-01" in texts["en"]
    assert "(on 2026-10-01, not before)" in texts["en"]
