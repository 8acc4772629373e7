"""The order aggregate: each state change enforces its rule (docs/domain.md, Order and
Payment registration), and payment events settle the same whatever order they arrive in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from random import Random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.domain.access import Principal, Role
from app.domain.billing import Billing
from app.domain.mailbox import Mailbox, MailboxStatus
from app.domain.order import OrderNotCancellable, OrderStatus, PaymentMethod
from app.domain.order_aggregate import (
    CommitmentNotApplicable,
    Order,
    OrderNotFulfillable,
    Settlement,
)
from app.domain.payment_registration import Action, PaymentEvent, PaymentEventKind
from tests.unit.builders import NOW, PA, mailbox
from tests.unit.test_order_rules import PA_SPLIT, downgrade_quote, order_request, quote

LATER = NOW + timedelta(days=1)
CUSTOMER = Principal(Role.CUSTOMER, "acc-1")
PAYABLE = 1208  # the worked example's STANDARD renewal, VAT included


def placed(method: PaymentMethod = PaymentMethod.BANK_TRANSFER, **changes: object) -> Order:
    request = order_request(payment_method=method, **changes)
    return Order.place("ord-1", CUSTOMER, request, quote(), NOW, "it")


def boxes(*found: Mailbox) -> dict[str, Mailbox]:
    return {box.id: box for box in (found or (mailbox(),))}


def event(
    kind: PaymentEventKind = PaymentEventKind.SUCCEEDED,
    amount: int = PAYABLE,
    event_id: str = "evt-1",
    *,
    cumulative: bool = False,
) -> PaymentEvent:
    return PaymentEvent("generic", event_id, kind, "ord-1", amount, "EUR", NOW, cumulative)


def receive(order: Order, events: list[PaymentEvent]) -> list[Settlement]:
    """Events as the payment service applies them: a refund that arrives before its
    payment waits, and is settled again once the money is in."""
    waiting: list[PaymentEvent] = []
    settled: list[Settlement] = []
    for received in events:
        settlement = order.settle(received, LATER, boxes())
        settled.append(settlement)
        if settlement.decision.action is Action.WAIT:
            waiting.append(received)
        elif settlement.paid_now:
            settled += [order.settle(refund, LATER, {}) for refund in waiting]
            waiting = []
    return settled


def state(order: Order) -> tuple[OrderStatus, bool, int]:
    return order.status, order.paid, order.refunded_cents


# --- placing ---------------------------------------------------------------------------


def test_a_placed_order_awaits_payment_of_exactly_the_quote() -> None:
    order = placed()
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert order.payable_cents == PAYABLE
    assert [item.mailbox_id for item in order.items] == ["mbx-1"]


def test_a_public_administration_under_split_payment_pays_the_net() -> None:
    order = placed(holder=PA, billing=PA_SPLIT)
    assert order.split_payment
    assert order.payable_cents == order.amounts.net_cents


# --- cancel and expire -------------------------------------------------------------------


def test_an_unpaid_order_can_be_cancelled() -> None:
    order = placed()
    order.cancel(LATER)
    assert (order.status, order.closed_at) == (OrderStatus.CANCELLED, LATER)


@pytest.mark.parametrize("close", [Order.cancel, Order.expire])
def test_a_fulfilled_order_can_be_neither_cancelled_nor_expired(
    close: Callable[[Order, datetime], None],
) -> None:
    order = placed()
    order.fulfil(boxes(), NOW, paid=True)
    with pytest.raises(OrderNotCancellable):
        close(order, LATER)
    assert order.status is OrderStatus.FULFILLED


# --- fulfilment --------------------------------------------------------------------------


def test_fulfilment_renews_from_the_expiry_at_fulfilment_not_as_quoted() -> None:
    order = placed()
    renewed_since = mailbox(expires_on=date(2027, 7, 31))
    (change,) = order.fulfil(boxes(renewed_since), NOW, paid=True)
    assert (change.previous_expiry, change.expires_on) == (date(2027, 7, 31), date(2028, 7, 31))


def test_a_downgrade_paid_early_waits_for_the_expiry_archive_and_all() -> None:
    """Changed by spec (domain.md "When a plan change takes effect"): the archive and its
    extra space were deleted at payment; now they go the day after the current expiry."""
    box = mailbox(id="mbx-premium", plan_code="PREMIUM", used_mailbox_mb=1500, extra_archive_gb=2)
    request = order_request(acknowledge_archive_deletion=True)
    order = Order.place("ord-1", CUSTOMER, request, downgrade_quote(), NOW, "it")
    (change,) = order.fulfil(boxes(box), NOW, paid=True)
    assert (change.plan_code, change.deletes_archive, change.extra_archive_gb) == (
        "PREMIUM",
        False,
        2,
    )
    assert change.expires_on == date(2027, 7, 31)  # the expiry moves at payment all the same
    assert change.scheduled is not None
    scheduled = change.scheduled
    assert (scheduled.plan_code, scheduled.deletes_archive, scheduled.extra_archive_gb) == (
        "STANDARD",
        True,
        0,
    )
    assert (scheduled.effective_on, scheduled.order_id) == (date(2026, 8, 1), "ord-1")


def test_a_downgrade_paid_in_the_grace_deletes_the_archive_at_payment() -> None:
    box = mailbox(id="mbx-premium", plan_code="PREMIUM", used_mailbox_mb=1500, extra_archive_gb=2)
    request = order_request(acknowledge_archive_deletion=True)
    order = Order.place("ord-1", CUSTOMER, request, downgrade_quote(), NOW, "it")
    expired = replace(box, expires_on=date(2026, 6, 1))
    (change,) = order.fulfil(boxes(expired), NOW, paid=True)
    assert (change.plan_code, change.deletes_archive, change.extra_archive_gb) == (
        "STANDARD",
        True,
        0,
    )
    assert change.scheduled is None


@pytest.mark.parametrize(
    ("method", "auto_renewal"),
    [
        (PaymentMethod.CARD, True),
        (PaymentMethod.PAYPAL, True),
        (PaymentMethod.BANK_TRANSFER, False),
    ],
)
def test_card_and_paypal_turn_automatic_renewal_on(
    method: PaymentMethod, auto_renewal: bool
) -> None:
    (change,) = placed(method).fulfil(boxes(), NOW, paid=True)
    assert change.auto_renewal is auto_renewal


def test_a_mailbox_no_longer_mirrored_is_skipped() -> None:
    assert placed().fulfil({}, NOW, paid=True) == ()


def test_an_order_is_fulfilled_at_most_once() -> None:
    order = placed()
    order.fulfil(boxes(), NOW, paid=True)
    with pytest.raises(OrderNotFulfillable):
        order.fulfil(boxes(), LATER, paid=True)
    assert order.fulfilled_at == NOW


def test_a_public_administration_commitment_fulfils_an_unpaid_order() -> None:
    order = placed(holder=PA, billing=PA_SPLIT)
    changes = order.register_commitment(boxes(), NOW)
    assert len(changes) == 1
    assert (order.status, order.commitment_at, order.paid) == (OrderStatus.FULFILLED, NOW, False)


def test_only_a_public_administration_takes_a_commitment() -> None:
    with pytest.raises(CommitmentNotApplicable):
        placed(billing=Billing()).register_commitment(boxes(), NOW)


# --- payments ------------------------------------------------------------------------------


def test_the_payment_fulfils_the_order() -> None:
    order = placed()
    settlement = order.settle(event(), LATER, boxes())
    assert settlement.fulfilled
    assert len(settlement.changes) == 1
    assert (order.status, order.paid_at) == (OrderStatus.FULFILLED, LATER)


def test_a_payment_after_the_grace_expires_the_order_and_goes_to_reconciliation() -> None:
    order = placed()
    gone = mailbox(expires_on=date(2026, 1, 1), status=MailboxStatus.EXPIRED)
    settlement = order.settle(event(), LATER, boxes(gone))
    assert (settlement.decision.action, settlement.decision.reason) == (
        Action.RECONCILE,
        "order_closed",
    )
    assert settlement.changes == ()
    assert order.status is OrderStatus.EXPIRED


def test_money_for_a_committed_order_is_recorded_without_renewing_again() -> None:
    order = placed(holder=PA, billing=PA_SPLIT)
    order.register_commitment(boxes(), NOW)
    settlement = order.settle(event(amount=order.payable_cents), LATER, boxes())
    assert settlement.decision.action is Action.RECORD_PAYMENT
    assert settlement.changes == ()
    assert order.paid_at == LATER


def test_refunds_up_to_the_payable_amount_make_the_order_refunded() -> None:
    order = placed()
    receive(order, [event(), event(PaymentEventKind.REFUNDED, 600, "r1")])
    assert order.status is OrderStatus.FULFILLED
    receive(order, [event(PaymentEventKind.REFUNDED, PAYABLE - 600, "r2")])
    assert state(order) == (OrderStatus.REFUNDED, True, PAYABLE)


def test_a_refund_before_its_payment_waits_for_it() -> None:
    order = placed()
    settled = receive(order, [event(PaymentEventKind.REFUNDED, 500, "r1"), event()])
    assert [s.decision.action for s in settled] == [
        Action.WAIT,
        Action.FULFIL,
        Action.RECORD_REFUND,
    ]
    assert order.refunded_cents == 500


# --- properties ------------------------------------------------------------------------------

refunds = st.lists(st.tuples(st.integers(1, PAYABLE), st.booleans()), max_size=4).map(
    lambda drawn: [
        event(PaymentEventKind.REFUNDED, amount, f"r{n}", cumulative=cumulative)
        for n, (amount, cumulative) in enumerate(drawn)  # stored once each: ids differ
    ]
)


@given(refunds, st.integers(1, 3), st.randoms(use_true_random=False))
def test_any_order_of_the_same_events_reaches_the_same_state(
    refund_events: list[PaymentEvent], payments: int, random: Random
) -> None:
    """Separate refunds add up, whichever arrives first, before or after the payment.
    (Refunds adding up to more than was paid can't all be applied: which one goes to
    reconciliation depends on arrival, so those are left to the property below.)"""
    separate = [replace(r, cumulative=False) for r in refund_events]
    assume(sum(r.amount_cents or 0 for r in separate) <= PAYABLE)
    events = [event(event_id=f"p{n}") for n in range(payments)] + separate
    shuffled = events[:]
    random.shuffle(shuffled)
    first, second = placed(), placed()
    receive(first, events)
    receive(second, shuffled)
    assert state(first) == state(second)


@given(st.lists(st.integers(1, PAYABLE), min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_cumulative_refunds_reach_the_same_total_in_any_order(
    totals: list[int], random: Random
) -> None:
    """Stripe reports the refunded total so far: a late, smaller total changes nothing."""
    events = [event()] + [
        event(PaymentEventKind.REFUNDED, total, f"r{n}", cumulative=True)
        for n, total in enumerate(totals)
    ]
    shuffled = events[:]
    random.shuffle(shuffled)
    first, second = placed(), placed()
    receive(first, events)
    receive(second, shuffled)
    assert state(first) == state(second)
    assert first.refunded_cents == max(totals)


@given(st.integers(2, 5), refunds)
def test_money_received_is_never_counted_twice(
    payments: int, refund_events: list[PaymentEvent]
) -> None:
    """A second payment is a duplicate to reconcile: the order is paid and renewed once."""
    order = placed()
    settled = receive(order, [event(event_id=f"p{n}") for n in range(payments)] + refund_events)
    fulfilled = [s for s in settled if s.fulfilled]
    assert len(fulfilled) == 1
    duplicates = [s for s in settled if s.decision.reason == "duplicate_payment"]
    assert len(duplicates) == payments - 1


@given(refunds, st.booleans())
def test_a_refund_never_exceeds_what_was_paid(
    refund_events: list[PaymentEvent], paid_first: bool
) -> None:
    """A refund that would pass the payable amount goes to reconciliation, uncounted."""
    order = placed()
    events = [event(), *refund_events] if paid_first else [*refund_events, event()]
    settled = receive(order, events)
    assert 0 <= order.refunded_cents <= order.payable_cents
    counted = [s for s in settled if s.decision.action is Action.RECORD_REFUND]
    assert (order.refunded_cents > 0) == bool(counted)


@given(st.lists(st.sampled_from(["pay", "cancel", "expire", "commit"]), max_size=6))
def test_fulfilment_happens_at_most_once_whatever_is_tried(attempts: list[str]) -> None:
    order = placed(holder=PA, billing=PA_SPLIT)
    fulfilments = 0
    for attempt in attempts:
        try:
            if attempt == "pay":
                fulfilments += order.settle(
                    event(amount=order.payable_cents), LATER, boxes()
                ).fulfilled
            elif attempt == "cancel":
                order.cancel(LATER)
            elif attempt == "expire":
                order.expire(LATER)
            else:
                fulfilments += bool(order.register_commitment(boxes(), LATER))
        except (OrderNotCancellable, CommitmentNotApplicable):
            pass
    assert fulfilments <= 1
    assert (order.fulfilled_at is not None) == (fulfilments == 1)
