"""OrderMemory: the quotes it recalls, and the order numbers it keeps and hands out."""

from __future__ import annotations

from datetime import UTC, datetime

from app.db.order_memory import OrderMemory
from app.domain.access import Principal, Role
from app.domain.calendar import italian_date
from app.domain.quote import RenewalItem, RenewalRequest, quote_renewal
from app.domain.quote_record import QuoteRecord
from app.sandbox.demo_catalog import demo_price_list
from app.sandbox.seed import DEMO_MAILBOXES, demo_mailbox

OWNER = Principal(Role.CUSTOMER, "acc-1")
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def record(quote_id: str) -> QuoteRecord:
    today = italian_date(NOW)
    mailboxes = {demo.id: demo_mailbox(demo, today) for demo in DEMO_MAILBOXES}
    request = RenewalRequest(years=1, items=(RenewalItem("mbx-standard"),))
    quote = quote_renewal(request, mailboxes, demo_price_list(), NOW)
    return QuoteRecord(quote_id, OWNER, quote)


def test_it_recalls_a_quote_with_the_language_it_was_stored_with() -> None:
    memory = OrderMemory()
    memory.remember_quote(record("quo-1"), "en")

    recalled = memory.recall_quote("quo-1")

    assert recalled is not None
    assert (recalled.record.id, recalled.language) == ("quo-1", "en")
    assert memory.recall_quote("quo-2") is None


def test_it_forgets_the_least_recently_used_quote_first() -> None:
    memory = OrderMemory(capacity=2)
    memory.remember_quote(record("quo-1"), None)
    memory.remember_quote(record("quo-2"), None)
    assert memory.recall_quote("quo-1") is not None  # "quo-2" is now the oldest

    memory.remember_quote(record("quo-3"), None)

    assert len(memory) == 2
    assert memory.recall_quote("quo-2") is None
    assert memory.recall_quote("quo-1") is not None


def test_an_ordered_quote_is_forgotten_and_the_others_kept() -> None:
    memory = OrderMemory()
    memory.remember_quote(record("quo-1"), None)
    memory.remember_quote(record("quo-2"), None)

    memory.forget_quote("quo-1")
    memory.forget_quote("quo-never-seen")

    assert memory.recall_quote("quo-1") is None
    assert memory.recall_quote("quo-2") is not None
    assert len(memory) == 1


def test_it_keeps_numbers_up_to_its_bound_and_hands_out_the_oldest_first() -> None:
    memory = OrderMemory(numbers_kept=2)
    assert memory.take_number() is None
    assert memory.reserve_number()
    memory.reserved(41)
    assert memory.reserve_number()
    memory.reserved(42)

    assert not memory.reserve_number()
    assert memory.take_number() == 41
    assert memory.reserve_number()
    memory.reserved(None)  # that write stored nothing
    assert memory.take_number() == 42
    assert memory.take_number() is None  # a number is handed out once


def test_writes_in_flight_count_towards_the_bound() -> None:
    """Many orders written at once must not reserve a number each: a process that stops
    loses the numbers it holds, and the gap must stay within `numbers_kept`."""
    memory = OrderMemory(numbers_kept=3)
    reserving = [memory.reserve_number() for _ in range(10)]
    assert reserving.count(True) == 3
    for seq in (1, 2, 3):
        memory.reserved(seq)
    assert not memory.reserve_number()
    assert [memory.take_number() for _ in range(4)] == [1, 2, 3, None]


def test_with_no_capacity_it_remembers_nothing_and_reserves_nothing() -> None:
    memory = OrderMemory(capacity=0)
    memory.remember_quote(record("quo-1"), None)

    assert memory.recall_quote("quo-1") is None
    assert not memory.reserve_number()


def test_forgetting_drops_quotes_and_numbers() -> None:
    memory = OrderMemory()
    memory.remember_quote(record("quo-1"), None)
    memory.keep_number(7)

    memory.forget()

    assert memory.recall_quote("quo-1") is None
    assert memory.take_number() is None
