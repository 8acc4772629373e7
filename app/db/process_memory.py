"""What an api process remembers between requests to save round trips to PostgreSQL:
the mailboxes it read for quotes (app/db/mailbox_memory.py), the customers' quotes it
stored, with order numbers reserved for them (app/db/order_memory.py), and the orders it
placed, for their payment (app/db/placed_order_memory.py). None is ever trusted on its
own: the one statement that uses them checks they still hold."""

from __future__ import annotations

from dataclasses import dataclass

from app.db.mailbox_memory import MailboxMemory
from app.db.order_memory import OrderMemory
from app.db.placed_order_memory import PlacedOrderMemory


@dataclass(frozen=True, slots=True)
class ProcessMemory:
    mailboxes: MailboxMemory
    orders: OrderMemory
    placed: PlacedOrderMemory
