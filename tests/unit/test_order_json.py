"""POST /v1/orders answers without building the models: the same JSON as OrderOut."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from app.domain.order import PaymentMethod
from app.domain.order_aggregate import Order
from app.domain.payment_registration import PaymentEventKind
from app.routers.v1.order_schemas import OrderOut, json_instant, order_json
from tests.unit.builders import NOW, mailbox
from tests.unit.test_confirmation_email import ACCOUNTS
from tests.unit.test_order_aggregate import CUSTOMER, LATER, boxes, event, placed
from tests.unit.test_order_rules import PA_SPLIT, downgrade_quote, order_request

# Orders in every state an answer can show: placed by each method, a public
# administration's split payment, a downgrade that waits for the expiry, then paid,
# refunded, cancelled.
METHODS = [m for m in PaymentMethod if m is not PaymentMethod.PARTNER_CREDIT]


def _downgrade() -> Order:
    request = order_request()
    return Order.place("ord-1", CUSTOMER, request, downgrade_quote(), NOW, "en")


def _split() -> Order:
    return placed(billing=PA_SPLIT)


def _paid(order: Order) -> Order:
    order.settle(event(), LATER, boxes(mailbox()))
    return order


def _refunded(order: Order) -> Order:
    _paid(order)
    order.settle(event(PaymentEventKind.REFUNDED, event_id="evt-2"), LATER, {})
    return order


def _cancelled(order: Order) -> Order:
    order.cancel(LATER)
    return order


orders = st.one_of(
    st.builds(placed, st.sampled_from(METHODS)),
    st.builds(_split),
    st.builds(_downgrade),
).flatmap(
    lambda order: st.sampled_from([lambda o: o, _paid, _refunded, _cancelled]).map(
        lambda then: then(order)
    )
)


@given(orders)
def test_the_quick_answer_is_the_models_json(order: Order) -> None:
    order.seq = 42

    assert order_json(order, ACCOUNTS) == OrderOut.of(order, ACCOUNTS).model_dump(mode="json")


_INSTANT = TypeAdapter(datetime | None)


@given(
    st.none()
    | st.datetimes(timezones=st.just(UTC))
    | st.datetimes(timezones=st.timezones())
    | st.datetimes()
)
def test_an_instant_is_written_as_pydantic_writes_it(moment: datetime | None) -> None:
    assert json_instant(moment) == _INSTANT.dump_python(moment, mode="json")
