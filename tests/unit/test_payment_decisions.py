"""What a verified payment event does to an order (docs/domain.md, Payment registration).

decide() is pure: the order's state and the event in, a decision out. Money is applied
only when amount and currency match an order that can take it; everything else is
recorded, waits, or goes to reconciliation with a reason, never dropped.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.order import OrderStatus
from app.domain.payment_registration import (
    Action,
    Decision,
    OrderPaymentState,
    PaymentEvent,
    PaymentEventKind,
    decide,
)
from app.domain.payment_retry import next_attempt

AT = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)
CLOSED = [OrderStatus.CANCELLED, OrderStatus.EXPIRED]
APPLIES_MONEY = {Action.FULFIL, Action.RECORD_PAYMENT}


def order(**changes: object) -> OrderPaymentState:
    base = OrderPaymentState(
        status=OrderStatus.AWAITING_PAYMENT, payable_cents=1208, currency="EUR", paid=False
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def event(kind: PaymentEventKind = PaymentEventKind.SUCCEEDED, **changes: object) -> PaymentEvent:
    base = PaymentEvent(
        provider="stripe",
        event_id="evt_1",
        kind=kind,
        order_ref="ord-7f3a",
        amount_cents=1208,
        currency="EUR",
        occurred_at=AT,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def paid_order(**changes: object) -> OrderPaymentState:
    return order(status=OrderStatus.PAID, paid=True, **changes)


def pa_fulfilled_on_commitment(paid: bool = False) -> OrderPaymentState:
    return order(status=OrderStatus.FULFILLED, paid=paid, payable_cents=990)


def reconcile(reason: str) -> Decision:
    return Decision(Action.RECONCILE, reason)


# --- unknown orders ------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PaymentEventKind))
def test_an_event_for_an_unknown_order_is_reconciled(kind: PaymentEventKind) -> None:
    assert decide(None, event(kind)) == reconcile("unknown_order")


# --- payments ------------------------------------------------------------------------


def test_a_matching_payment_for_an_awaiting_order_fulfils_it() -> None:
    assert decide(order(), event()) == Decision(Action.FULFIL)


def test_the_currency_matches_whatever_its_case() -> None:
    assert decide(order(), event(currency="eur")) == Decision(Action.FULFIL)
    assert decide(order(), event(currency="Eur")) == Decision(Action.FULFIL)


@pytest.mark.parametrize("amount", [1207, 1209, 990, 120800])
def test_a_payment_of_another_amount_is_reconciled(amount: int) -> None:
    assert decide(order(), event(amount_cents=amount)) == reconcile("amount_mismatch")


@pytest.mark.parametrize("kind", [PaymentEventKind.SUCCEEDED, PaymentEventKind.REFUNDED])
@pytest.mark.parametrize("amount", [0, -1, -1208])
def test_a_zero_or_negative_amount_is_reconciled_never_applied(
    kind: PaymentEventKind, amount: int
) -> None:
    for state in (order(), paid_order()):
        assert decide(state, event(kind, amount_cents=amount)) == reconcile("invalid_amount")


@pytest.mark.parametrize(
    "currency", ["USD", "usd", "GBP", "", "EURO", "eurx", " EUR", "EU", "EÜR", "EUR~"]
)
def test_a_payment_in_another_currency_is_reconciled(currency: str) -> None:
    assert decide(order(), event(currency=currency)) == reconcile("currency_mismatch")


@pytest.mark.parametrize("status", CLOSED)
def test_a_payment_for_a_cancelled_or_expired_order_is_kept_for_refund(status: OrderStatus) -> None:
    assert decide(order(status=status), event()) == reconcile("order_closed")


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.FULFILLED])
def test_a_second_payment_for_a_paid_order_is_a_duplicate(status: OrderStatus) -> None:
    assert decide(order(status=status, paid=True), event()) == reconcile("duplicate_payment")


def test_a_pa_order_fulfilled_on_commitment_records_the_money_when_it_arrives() -> None:
    # split payment: the PA pays the net 9.90 of the 12.08 order
    decision = decide(pa_fulfilled_on_commitment(), event(amount_cents=990))
    assert decision == Decision(Action.RECORD_PAYMENT)


def test_a_pa_payment_of_the_gross_under_split_payment_is_reconciled() -> None:
    decision = decide(pa_fulfilled_on_commitment(), event(amount_cents=1208))
    assert decision == reconcile("amount_mismatch")


def test_a_pa_order_already_paid_after_its_commitment_takes_no_second_payment() -> None:
    already = pa_fulfilled_on_commitment(paid=True)
    assert decide(already, event(amount_cents=990)) == reconcile("duplicate_payment")


# --- failures ------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(OrderStatus))
@pytest.mark.parametrize("paid", [False, True])
def test_a_failure_is_only_recorded_and_never_undoes_a_payment(
    status: OrderStatus, paid: bool
) -> None:
    decision = decide(order(status=status, paid=paid), event(PaymentEventKind.FAILED))
    assert decision == Decision(Action.RECORD_FAILURE)


def test_a_failure_after_a_success_leaves_the_paid_order_alone() -> None:
    decision = decide(paid_order(), event(PaymentEventKind.FAILED, amount_cents=1))
    assert decision.action is Action.RECORD_FAILURE
    assert decision.action not in APPLIES_MONEY


# --- refunds -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.FULFILLED])
def test_a_refund_of_a_paid_order_is_recorded(status: OrderStatus) -> None:
    decision = decide(order(status=status, paid=True), event(PaymentEventKind.REFUNDED))
    assert decision == Decision(Action.RECORD_REFUND)


def test_a_refund_that_arrives_before_its_payment_waits() -> None:
    assert decide(order(), event(PaymentEventKind.REFUNDED)) == Decision(Action.WAIT)


def test_a_refund_for_a_pa_order_fulfilled_on_commitment_waits_for_the_money() -> None:
    refund = event(PaymentEventKind.REFUNDED, amount_cents=990)
    assert decide(pa_fulfilled_on_commitment(), refund) == Decision(Action.WAIT)


def test_a_refund_larger_than_what_was_paid_is_reconciled() -> None:
    too_much = event(PaymentEventKind.REFUNDED, amount_cents=1209)
    assert decide(paid_order(), too_much) == reconcile("refund_exceeds_payment")


@pytest.mark.parametrize("status", CLOSED)
def test_a_refund_for_a_closed_unpaid_order_is_reconciled(status: OrderStatus) -> None:
    decision = decide(order(status=status), event(PaymentEventKind.REFUNDED))
    assert decision == reconcile("refund_for_closed_order")


def test_a_refund_in_another_currency_is_reconciled() -> None:
    decision = decide(paid_order(), event(PaymentEventKind.REFUNDED, currency="USD"))
    assert decision.action is Action.RECONCILE


# --- order-independence --------------------------------------------------------------


def test_a_refund_before_its_payment_then_the_payment_then_the_refund_again() -> None:
    awaiting = order()
    refund = event(PaymentEventKind.REFUNDED, event_id="evt_refund")
    payment = event(event_id="evt_pay")

    assert decide(awaiting, refund).action is Action.WAIT
    assert decide(awaiting, payment).action is Action.FULFIL
    assert decide(paid_order(), refund).action is Action.RECORD_REFUND


def test_the_decision_does_not_depend_on_when_the_event_occurred() -> None:
    late = event(occurred_at=datetime(2030, 1, 1, tzinfo=UTC))
    early = event(occurred_at=datetime(2000, 1, 1, tzinfo=UTC))
    assert decide(order(), late) == decide(order(), early) == Decision(Action.FULFIL)


# --- properties ----------------------------------------------------------------------

currencies = st.sampled_from(["EUR", "eur", "Eur", "USD", "usd", "GBP", ""]) | st.text(max_size=4)
amounts = st.sampled_from([0, 990, 1208, 11346]) | st.integers(-(10**9), 10**9)

order_states = st.builds(
    OrderPaymentState,
    status=st.sampled_from(list(OrderStatus)),
    payable_cents=amounts,
    currency=st.sampled_from(["EUR", "USD"]),
    paid=st.booleans(),
)
events = st.builds(
    PaymentEvent,
    provider=st.sampled_from(["stripe", "paypal", "bank", "poste"]),
    event_id=st.text(min_size=1, max_size=12),
    kind=st.sampled_from(list(PaymentEventKind)),
    order_ref=st.none() | st.text(max_size=20),
    amount_cents=amounts,
    currency=currencies,
    occurred_at=st.datetimes(timezones=st.just(UTC)),
)


@given(state=st.none() | order_states, evt=events)
def test_decide_never_raises_and_gives_a_reason_exactly_when_it_reconciles(
    state: OrderPaymentState | None, evt: PaymentEvent
) -> None:
    decision = decide(state, evt)

    assert isinstance(decision.action, Action)
    if decision.action is Action.RECONCILE:
        assert decision.reason
    else:
        assert decision.reason is None


@given(state=order_states, evt=events)
def test_money_is_applied_only_when_amount_and_currency_match_exactly(
    state: OrderPaymentState, evt: PaymentEvent
) -> None:
    decision = decide(state, evt)

    if decision.action in APPLIES_MONEY:
        assert evt.kind is PaymentEventKind.SUCCEEDED
        assert evt.amount_cents == state.payable_cents
        assert evt.currency.upper() == state.currency
        assert not state.paid
        assert state.status not in CLOSED


@given(state=order_states, evt=events)
def test_only_an_awaiting_unpaid_order_is_fulfilled(
    state: OrderPaymentState, evt: PaymentEvent
) -> None:
    if decide(state, evt).action is Action.FULFIL:
        assert state.status is OrderStatus.AWAITING_PAYMENT
        assert not state.paid


@given(state=order_states, evt=events)
def test_a_matching_payment_for_an_awaiting_unpaid_order_is_always_fulfilled(
    state: OrderPaymentState, evt: PaymentEvent
) -> None:
    awaiting = replace(
        state,
        status=OrderStatus.AWAITING_PAYMENT,
        paid=False,
        payable_cents=max(state.payable_cents, 1),  # an order always costs something
    )
    matching = replace(
        evt,
        kind=PaymentEventKind.SUCCEEDED,
        amount_cents=awaiting.payable_cents,
        currency=awaiting.currency.lower(),
    )
    assert decide(awaiting, matching) == Decision(Action.FULFIL)


@given(state=order_states, evt=events)
def test_a_failure_never_applies_or_removes_money(
    state: OrderPaymentState, evt: PaymentEvent
) -> None:
    failure = replace(evt, kind=PaymentEventKind.FAILED)
    assert decide(state, failure) == Decision(Action.RECORD_FAILURE)


@given(state=order_states, evt=events)
def test_a_paid_order_never_takes_money_again(state: OrderPaymentState, evt: PaymentEvent) -> None:
    paid = replace(state, paid=True)
    assert decide(paid, evt).action not in APPLIES_MONEY


@given(state=st.none() | order_states, evt=events)
def test_deciding_twice_gives_the_same_decision(
    state: OrderPaymentState | None, evt: PaymentEvent
) -> None:
    assert decide(state, evt) == decide(state, evt)


@pytest.mark.parametrize("kind", list(PaymentEventKind))
def test_an_amount_too_large_to_store_is_never_applied(kind: PaymentEventKind) -> None:
    assert decide(order(), event(kind, amount_cents=None)) == reconcile("amount_out_of_range")
    assert decide(None, event(kind, amount_cents=None)) == reconcile("amount_out_of_range")


def test_a_failed_event_is_retried_ever_later_and_given_up_after_a_day() -> None:
    first = AT
    delays = [next_attempt(n, first, first) for n in (1, 2, 3, 20)]
    assert [d - first for d in delays if d] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(hours=1),
    ]
    assert next_attempt(9, first, first + timedelta(hours=23, minutes=59)) is not None
    assert next_attempt(9, first, first + timedelta(hours=24)) is None
