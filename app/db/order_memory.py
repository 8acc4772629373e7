"""What an api process remembers to place a customer's order in ONE round trip: the
quotes it stored, and order numbers it reserved.

The everyday order follows its quote within minutes, from the same frontend, often on
the same connection to the same process. That process priced the quote from mailboxes
it read or remembers (app/db/mailbox_memory.py), so it holds everything the order's
read would fetch (app/db/pg_order_in_one_write.py): the quote, its mailboxes with their
row versions, and the ordering account's language as it was when the quote was stored.
The order's number is the one thing only the database gives: each write reserves the
next one for a later order of this process. Once ordered, a quote is forgotten: it can
order nothing more.

Memory is never trusted on its own. The order's one write stores the order only if every
mailbox is still at the version remembered and the account's language is unchanged (the
key, the quote and each mailbox's hold are unique keys); otherwise it writes nothing and
the order is read for, as before. A number reserved and never used is a gap in the order
numbers, as a rolled-back insert leaves one: at most `numbers_kept` per process (those
kept and those being reserved by writes in flight together).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.db.recently_used import RecentlyUsed
from app.domain.quote_record import QuoteRecord


@dataclass(frozen=True, slots=True)
class RememberedQuote:
    record: QuoteRecord
    language: str | None  # the owner's account language when the quote was stored


class OrderMemory:
    """The last `capacity` quotes this process stored, and up to `numbers_kept` order
    numbers reserved for them."""

    def __init__(
        self,
        capacity: int = 4096,
        numbers_kept: int = 20,
        count: Callable[[str], None] | None = None,
    ) -> None:
        self._capacity = capacity
        self._quotes: RecentlyUsed[str, RememberedQuote] = RecentlyUsed(capacity)
        self._numbers: list[int] = []
        self._numbers_kept = numbers_kept
        self._reserving = 0  # writes in flight that reserve a number
        # Told "written" or "read_again" for each order placed from memory or not (metrics).
        self._count = count or _uncounted
        self.enabled = capacity > 0

    def remember_quote(self, record: QuoteRecord, language: str | None) -> None:
        self._quotes.put(record.id, RememberedQuote(record, language))

    def recall_quote(self, quote_id: str) -> RememberedQuote | None:
        return self._quotes.get(quote_id)

    def forget_quote(self, quote_id: str) -> None:
        """`quote_id` was ordered: a quote orders once, so its entry could only ever serve
        a write bound to fail."""
        self._quotes.pop(quote_id)

    def outcome(self, written: bool) -> None:
        """An order recalled from memory was written, or had to be read for."""
        self._count("written" if written else "read_again")

    def reserve_number(self) -> bool:
        """Whether the next write should reserve a number for a later order. If so, the
        write must then say how that went (`reserved`): the writes in flight count
        towards the bound, so many at once never hold more than `numbers_kept`."""
        if self.enabled and len(self._numbers) + self._reserving < self._numbers_kept:
            self._reserving += 1
            return True
        return False

    def reserved(self, seq: int | None) -> None:
        """A write that reserved a number is done: `seq`, or None when it stored nothing."""
        self._reserving -= 1
        if seq is not None:
            self._numbers.append(seq)

    def keep_number(self, seq: int) -> None:
        """A number reserved and not used (yet): for the next order from memory."""
        self._numbers.append(seq)

    def take_number(self) -> int | None:
        return self._numbers.pop(0) if self._numbers else None  # the oldest first

    def forget(self) -> None:
        """Forget everything: the database was emptied under this process (tests)."""
        self._quotes = RecentlyUsed(self._capacity)
        self._numbers.clear()

    def __len__(self) -> int:
        return len(self._quotes)


def _uncounted(_outcome: str) -> None:
    pass
