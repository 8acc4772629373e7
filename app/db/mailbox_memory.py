"""The mailboxes this process last read for a quote, to price the next quote of the same
mailboxes without reading them again.

Quoting the same mailbox again is the everyday request: a frontend re-quotes on every
change of the renewal form (years, plan, extra GB). Reading the mailboxes was one of a
quote's two round trips (issue 10).

The memory is never trusted on its own. A quote priced from it is stored only if every
mailbox is still, in the database, at the version remembered and visible to the caller:
one INSERT … SELECT … WHERE that checks it (app/db/pg_quote_store.py). Otherwise the
mailboxes are read afresh and the quote priced again. So a change made by another
process (a payment, a plan change, a new unpaid order, a transfer) is never missed; it
only costs that one quote the round trip saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.db.recently_used import RecentlyUsed
from app.domain.access import PendingOrder
from app.domain.mailbox import Mailbox


@dataclass(frozen=True, slots=True)
class RememberedMailbox:
    mailbox: Mailbox
    pending: PendingOrder | None  # its unpaid renewal order, as read
    # The mailbox row's version and its unpaid order, as the guarded insert computes them
    # (pg_quote_store.mailbox_version): equal strings, unchanged mailbox.
    version: str
    # The row's version alone (mappers.MAILBOX_ROW_VERSION), as an order's write checks
    # it (app/db/pg_order_in_one_write.py): the hold is that write's own to check.
    row_version: str


@dataclass(frozen=True, slots=True)
class MailboxesSeen:
    """The mailboxes a quote is priced from, and the unpaid order of those that have one."""

    mailboxes: dict[str, Mailbox]
    pending: dict[str, PendingOrder]
    # Set when they come from this process's memory (MailboxMemory), not from a read:
    # the versions a quote priced from them must still find in the database to be stored.
    remembered: tuple[str, ...] | None = None


def seen_of(entries: Sequence[RememberedMailbox], *, recalled: bool) -> MailboxesSeen:
    """What a quote is priced from: mailboxes just read, or `recalled` from memory."""
    return MailboxesSeen(
        {entry.mailbox.id: entry.mailbox for entry in entries},
        {entry.mailbox.id: entry.pending for entry in entries if entry.pending is not None},
        tuple(entry.version for entry in entries) if recalled else None,
    )


class MailboxMemory:
    """The last `capacity` mailboxes read, least recently used forgotten first."""

    def __init__(self, capacity: int = 4096) -> None:
        self._entries: RecentlyUsed[str, RememberedMailbox] = RecentlyUsed(capacity)

    def recall(self, ids: Sequence[str]) -> list[RememberedMailbox] | None:
        """Every one of `ids` as last read (each id once), or None if one is missing."""
        found: list[RememberedMailbox] = []
        for mailbox_id in dict.fromkeys(ids):
            entry = self._entries.get(mailbox_id)
            if entry is None:
                return None
            found.append(entry)
        return found

    def remember(self, read: Iterable[RememberedMailbox]) -> None:
        for entry in read:
            self._entries.put(entry.mailbox.id, entry)

    def forget(self, ids: Iterable[str]) -> None:
        """`ids` were ordered: their versions now count the unpaid order, so no quote
        could be stored from their entries any more (see `RememberedMailbox.version`)."""
        for mailbox_id in ids:
            self._entries.pop(mailbox_id)

    def __len__(self) -> int:
        return len(self._entries)
