"""The payment path as use cases on the fake unit of work: no database, no HTTP.

Each test is one behaviour the API tests also prove over HTTP (the list is in
tests/usecases/README.md); here the edge cases are cheap enough to state one by one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.order import OrderStatus, PaymentMethod
from app.domain.payment_retry import GIVE_UP_AFTER
from app.services.errors import PaymentEventAlreadyApplied, ResourceNotFound
from app.services.orders import cancel_order, expire_unpaid_orders, register_commitment
from app.services.payment_retries import apply_held_event, retry_due_events
from app.services.payments import receive_event
from tests.unit.builders import NOW, PA
from tests.usecases.shop import (
    CUSTOMER,
    EXPIRES_ON,
    LATER,
    PA_PAYABLE,
    PA_SPLIT,
    PAYABLE,
    Shop,
    event,
    mailbox,
)

STRAGGLER_AGE = timedelta(minutes=5)


async def test_a_matching_payment_fulfils_the_order_and_renews_the_mailbox() -> None:
    shop = Shop.open()
    order = await shop.place()

    receipt = await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)

    assert (receipt.duplicate, receipt.outcome) == (False, "fulfil")
    assert shop.order(order.id).status is OrderStatus.FULFILLED
    assert shop.mailbox().expires_on == EXPIRES_ON.replace(year=2027)
    assert shop.pending_mailboxes() == {}
    assert f"renewal:{order.id}:mbx-1" in shop.outbox_keys()


async def test_a_duplicate_event_is_a_no_op() -> None:
    shop = Shop.open()
    order = await shop.place()
    await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)

    again = await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)

    assert (again.duplicate, again.outcome) == (True, None)
    assert len(shop.events()) == 1
    assert shop.mailbox().expires_on == EXPIRES_ON.replace(year=2027)  # renewed once


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [
        pytest.param(PAYABLE - 1, "EUR", "amount_mismatch", id="amount"),
        pytest.param(PAYABLE, "USD", "currency_mismatch", id="currency"),
        pytest.param(PAYABLE, "EURO", "currency_mismatch", id="currency-prefix"),
        pytest.param(10**12, "EUR", "amount_mismatch", id="out-of-range-amount"),
    ],
)
async def test_a_payment_that_does_not_match_its_order_is_held_with_the_reason(
    amount: int, currency: str, reason: str
) -> None:
    shop = Shop.open()
    order = await shop.place()

    receipt = await receive_event(
        shop.db.uow_factory, "generic", event(order.number, amount_cents=amount, currency=currency),
        LATER,
    )  # fmt: skip

    assert receipt.outcome == "reconcile"
    (held,) = shop.held()
    assert (held.order_id, held.reason, held.amount_cents) == (order.id, reason, amount)
    assert shop.order(order.id).status is OrderStatus.AWAITING_PAYMENT


@pytest.mark.parametrize("reference", ["ord_does_not_exist", "PEC-2026-9999999", None])
async def test_a_payment_for_no_known_order_is_held_as_unknown_order(
    reference: str | None,
) -> None:
    shop = Shop.open()

    receipt = await receive_event(shop.db.uow_factory, "generic", event(reference), LATER)

    assert receipt.outcome == "reconcile"
    (held,) = shop.held()
    assert (held.order_id, held.reason) == (None, "unknown_order")


async def test_a_payment_for_a_cancelled_order_is_held_and_never_applied() -> None:
    shop = Shop.open()
    order = await shop.place()
    await cancel_order(shop.db.unit_of_work(), CUSTOMER, order.id, NOW)

    receipt = await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)

    assert receipt.outcome == "reconcile"
    (held,) = shop.held()
    assert (held.order_id, held.reason) == (order.id, "order_closed")
    assert shop.order(order.id).status is OrderStatus.CANCELLED
    assert shop.mailbox().expires_on == EXPIRES_ON


async def test_cancelling_releases_the_mailbox_for_another_order() -> None:
    shop = Shop.open()
    order = await shop.place()
    assert shop.pending_mailboxes() == {"mbx-1": order.id}

    await cancel_order(shop.db.unit_of_work(), CUSTOMER, order.id, NOW)

    assert shop.pending_mailboxes() == {}
    again = await shop.place()
    assert shop.pending_mailboxes() == {"mbx-1": again.id}


async def test_a_refund_before_its_payment_waits_then_applies_when_the_payment_comes() -> None:
    shop = Shop.open()
    order = await shop.place()
    refund = event(order.number, "payment.refunded", event_id="evt-refund")

    waiting = await receive_event(shop.db.uow_factory, "generic", refund, LATER)
    assert waiting.outcome == "wait"
    assert shop.order(order.id).refunded_cents == 0

    await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)

    assert shop.order(order.id).status is OrderStatus.REFUNDED
    assert [e.outcome for e in shop.events()] == ["record_refund", "fulfil"]


async def test_a_refund_for_an_order_cancelled_while_it_waited_is_held() -> None:
    shop = Shop.open()
    order = await shop.place()
    refund = event(order.number, "payment.refunded", event_id="evt-refund")
    await receive_event(shop.db.uow_factory, "generic", refund, LATER)

    await cancel_order(shop.db.unit_of_work(), CUSTOMER, order.id, LATER)

    (held,) = shop.held()
    assert held.reason == "refund_for_closed_order"


@pytest.mark.parametrize(
    ("provider", "refunded_cents"),
    [
        pytest.param("stripe", 600, id="stripe-reports-the-charge-total"),
        pytest.param("generic", 1000, id="generic-reports-each-refund"),
    ],
)
async def test_partial_refunds_count_as_the_provider_reports_them(
    provider: str, refunded_cents: int
) -> None:
    shop = Shop.open()
    order = await shop.place(method=PaymentMethod.CARD)
    await receive_event(shop.db.uow_factory, provider, event(order.id), LATER)

    for number, amount in enumerate((400, 600), start=1):
        refund = event(order.id, "payment.refunded", amount, event_id=f"evt-refund-{number}")
        await receive_event(shop.db.uow_factory, provider, refund, LATER)

    paid = shop.order(order.id)
    assert (paid.status, paid.refunded_cents) == (OrderStatus.FULFILLED, refunded_cents)


async def test_a_failed_payment_is_recorded_and_the_order_still_awaits_payment() -> None:
    shop = Shop.open()
    order = await shop.place()

    receipt = await receive_event(
        shop.db.uow_factory, "generic", event(order.number, "payment.failed"), LATER
    )

    assert receipt.outcome == "record_failure"
    assert shop.order(order.id).status is OrderStatus.AWAITING_PAYMENT
    assert shop.held() == []


async def test_a_failure_after_a_success_leaves_the_order_fulfilled() -> None:
    shop = Shop.open()
    order = await shop.place()
    await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)

    failed = await receive_event(
        shop.db.uow_factory, "generic", event(order.number, "payment.failed", event_id="e2"), LATER
    )

    assert failed.outcome == "record_failure"
    assert shop.order(order.id).status is OrderStatus.FULFILLED
    assert shop.order(order.id).paid


async def test_a_second_payment_of_a_paid_order_is_held_as_a_duplicate_payment() -> None:
    shop = Shop.open()
    order = await shop.place()
    await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)

    second = await receive_event(
        shop.db.uow_factory, "generic", event(order.number, event_id="evt-2"), LATER
    )

    assert second.outcome == "reconcile"
    (held,) = shop.held()
    assert held.reason == "duplicate_payment"
    assert shop.mailbox().expires_on == EXPIRES_ON.replace(year=2027)  # renewed once


async def test_an_event_of_another_kind_is_stored_but_ignored() -> None:
    shop = Shop.open()
    order = await shop.place()

    receipt = await receive_event(
        shop.db.uow_factory, "stripe", event(order.id, "checkout.session.completed"), LATER
    )

    assert receipt.outcome == "ignored"
    assert shop.order(order.id).status is OrderStatus.AWAITING_PAYMENT


async def test_a_payment_after_the_grace_expires_the_order_and_is_held() -> None:
    expired_on = NOW.date() - timedelta(days=85)
    shop = Shop.open(mailbox(expires_on=expired_on))
    order = await shop.place()
    ten_days_later = NOW + timedelta(days=10)  # no sweep ran: the order is still open

    receipt = await receive_event(
        shop.db.uow_factory, "generic", event(order.number), ten_days_later
    )

    assert receipt.outcome == "reconcile"
    assert shop.order(order.id).status is OrderStatus.EXPIRED
    assert (shop.held()[0].reason, shop.mailbox().expires_on) == ("order_closed", expired_on)
    assert shop.pending_mailboxes() == {}


async def test_unpaid_orders_expire_when_the_grace_ends_and_others_do_not() -> None:
    shop = Shop.open(mailbox("mbx-old", NOW.date() - timedelta(days=85)), mailbox("mbx-new"))
    old = await shop.place(("mbx-old",))
    new = await shop.place(("mbx-new",))

    expired = await expire_unpaid_orders(shop.db.unit_of_work(), NOW + timedelta(days=10))

    assert expired == 1
    assert shop.order(old.id).status is OrderStatus.EXPIRED
    assert shop.order(new.id).status is OrderStatus.AWAITING_PAYMENT
    assert shop.pending_mailboxes() == {"mbx-new": new.id}


async def test_a_failure_to_apply_is_stored_and_retried_with_backoff() -> None:
    shop = Shop.open()
    order = await shop.place()
    shop.db.outage(order_reads=1)

    receipt = await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)

    assert (receipt.duplicate, receipt.outcome) == (False, None)
    (stored,) = shop.events()
    assert (stored.attempts, stored.processed_at) == (1, None)
    assert stored.next_attempt_at is not None
    assert stored.next_attempt_at > LATER
    assert await retry_due_events(shop.db.uow_factory, LATER, STRAGGLER_AGE) == 0  # not yet due
    assert await retry_due_events(shop.db.uow_factory, stored.next_attempt_at, STRAGGLER_AGE) == 1
    assert shop.events()[0].outcome == "fulfil"
    assert shop.order(order.id).status is OrderStatus.FULFILLED


async def test_an_event_that_fails_for_a_day_is_held_with_its_last_error() -> None:
    shop = Shop.open()
    order = await shop.place()
    shop.db.outage(order_reads=10**6)
    await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)

    passes = 0
    while (due := shop.events()[0].next_attempt_at) is not None:
        await retry_due_events(shop.db.uow_factory, due, STRAGGLER_AGE)
        passes += 1

    (held,) = shop.held()
    assert (held.reason, held.processed_at is not None) == ("processing_failed", True)
    assert held.last_error is not None
    assert "FakeOutage" in held.last_error
    assert held.first_failed_at is not None
    assert held.processed_at is not None
    assert held.processed_at - held.first_failed_at >= GIVE_UP_AFTER
    assert passes > 1  # backed off, not given up at once
    assert shop.order(order.id).status is OrderStatus.AWAITING_PAYMENT


async def test_staff_apply_a_held_event_once_its_cause_is_fixed() -> None:
    shop = Shop.open()
    order = await shop.place()
    shop.db.outage(order_reads=10**6)
    await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)
    while (due := shop.events()[0].next_attempt_at) is not None:
        await retry_due_events(shop.db.uow_factory, due, STRAGGLER_AGE)
    shop.db.outage(order_reads=0)  # the cause is fixed
    (held,) = shop.held()

    applied = await apply_held_event(shop.db.uow_factory, held.id, LATER)

    assert (applied.outcome, applied.reason) == ("fulfil", None)
    assert shop.order(order.id).status is OrderStatus.FULFILLED
    assert shop.held() == []
    with pytest.raises(PaymentEventAlreadyApplied):
        await apply_held_event(shop.db.uow_factory, held.id, LATER)
    with pytest.raises(ResourceNotFound):
        await apply_held_event(shop.db.uow_factory, held.id + 1, LATER)


async def test_an_event_applied_again_that_still_does_not_match_stays_held() -> None:
    shop = Shop.open()
    order = await shop.place()
    await receive_event(
        shop.db.uow_factory, "generic", event(order.number, amount_cents=PAYABLE - 1), LATER
    )
    (held,) = shop.held()

    again = await apply_held_event(shop.db.uow_factory, held.id, LATER)

    assert (again.outcome, again.reason) == ("reconcile", "amount_mismatch")
    assert len(shop.held()) == 1


async def test_a_public_administration_commitment_fulfils_and_its_money_is_recorded_later() -> None:
    shop = Shop.open()
    order = await shop.place(holder=PA, billing=PA_SPLIT)
    assert order.payable_cents == PA_PAYABLE

    committed = await register_commitment(shop.db.unit_of_work(), order.id, NOW)

    assert committed.status is OrderStatus.FULFILLED
    assert shop.mailbox().expires_on == EXPIRES_ON.replace(year=2027)
    paid = await receive_event(
        shop.db.uow_factory, "generic", event(order.number, amount_cents=PA_PAYABLE), LATER
    )
    assert paid.outcome == "record_payment"
    assert shop.mailbox().expires_on == EXPIRES_ON.replace(year=2027)  # not renewed twice
