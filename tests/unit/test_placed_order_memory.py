"""PlacedOrderMemory: the orders a payment finds by number, each at most once."""

from __future__ import annotations

from dataclasses import replace

from app.db.placed_order_memory import PlacedOrder, PlacedOrderMemory
from app.domain.order import order_number
from tests.unit.builders import NOW
from tests.unit.test_order_aggregate import placed


def numbered(seq: int) -> PlacedOrder:
    order = placed()
    order.seq = seq
    return PlacedOrder(order, f"xmin-{seq}", {}, {})


def test_a_payment_finds_the_order_by_its_number_once() -> None:
    memory = PlacedOrderMemory()
    memory.remember(numbered(42))

    found = memory.take(order_number(42, NOW))

    assert found is not None
    assert (found.order.seq, found.version) == (42, "xmin-42")
    assert memory.take(order_number(42, NOW)) is None  # a retry reads for it
    assert len(memory) == 0


def test_an_id_or_another_number_is_not_found() -> None:
    memory = PlacedOrderMemory()
    entry = numbered(7)
    memory.remember(entry)

    assert memory.take(entry.order.id) is None
    assert memory.take(order_number(8, NOW)) is None
    assert memory.take("a transfer's free text") is None
    assert len(memory) == 1


def test_it_forgets_the_least_recently_placed_order_first() -> None:
    memory = PlacedOrderMemory(capacity=2)
    for seq in (1, 2, 3):
        memory.remember(numbered(seq))

    assert memory.take(order_number(1, NOW)) is None
    assert memory.take(order_number(3, NOW)) is not None


def test_with_no_capacity_it_remembers_nothing() -> None:
    memory = PlacedOrderMemory(capacity=0)
    memory.remember(numbered(1))

    assert not memory.enabled
    assert memory.take(order_number(1, NOW)) is None


def test_it_counts_what_became_of_payments_from_memory() -> None:
    counted: list[str] = []
    memory = PlacedOrderMemory(count=counted.append)
    memory.outcome(written=True)
    memory.outcome(written=False)
    memory.remember(replace(numbered(5), version="other"))
    memory.forget()

    assert counted == ["written", "read_again"]
    assert len(memory) == 0
