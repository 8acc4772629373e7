"""The customers' orders this process placed, for the payment that follows: applied in
ONE round trip, its write, instead of a read and a write.

A card payment's webhook comes within seconds of its order, a bank transfer's within
days. The process that wrote the order holds what the payment's read would fetch
(app/db/pg_payment_in_one_write.py): the order as placed, its row version, and its
mailboxes with theirs, as that write found them. With N api processes behind a balancer,
about 1 payment in N reaches the process that placed its order; the others read, as
before.

Memory is never trusted on its own. The payment's one write stores nothing unless the
order and every mailbox are still at the versions remembered (any event applied to the
order, a refund waiting for the payment among them, saves the order and so changes its
version) and every mailbox's holder on file is still the one the order gave, to the byte
(the read would have compared them). Otherwise the payment is read for, as before. Each
order is taken out of memory by the first payment that names it, so a provider's retry
of the same event goes straight to the read that finds it a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.db.recently_used import RecentlyUsed
from app.domain.mailbox import Mailbox
from app.domain.order import sequence_of
from app.domain.order_aggregate import Order


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """An order as its write stored it: what a payment's read would build from its row."""

    order: Order
    version: str  # the order row's xmin, as the write returned it
    mailboxes: dict[str, Mailbox]  # its mailboxes, at `versions` (the write checked them)
    versions: dict[str, str]


class PlacedOrderMemory:
    """The last `capacity` orders placed by this process and not yet paid, by number."""

    def __init__(self, capacity: int = 4096, count: Callable[[str], None] | None = None) -> None:
        self._capacity = capacity
        self._orders: RecentlyUsed[int, PlacedOrder] = RecentlyUsed(capacity)
        # Told "written" or "read_again" for each payment applied from memory or not.
        self._count = count or _uncounted
        self.enabled = capacity > 0

    def remember(self, placed: PlacedOrder) -> None:
        if self.enabled:
            self._orders.put(placed.order.seq, placed)

    def take(self, reference: str) -> PlacedOrder | None:
        """The order numbered `reference`, forgotten: one payment uses it, written or not.
        None for an id (providers send the number the customer was given): it is read."""
        seq = sequence_of(reference)
        return None if seq is None else self._orders.pop(seq)

    def outcome(self, written: bool) -> None:
        """A payment from memory was written, or had to be read for."""
        self._count("written" if written else "read_again")

    def forget(self) -> None:
        """Forget everything: the database was emptied under this process (tests)."""
        self._orders = RecentlyUsed(self._capacity)

    def __len__(self) -> int:
        return len(self._orders)


def _uncounted(_outcome: str) -> None:
    pass
