"""What a payment's fulfilment reads under lock before it decides, and the renewal it then
writes with the event: named, so the lean unit of work can do each in one statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.holder_record import HolderOwner
from app.domain.mailbox import Mailbox
from app.domain.order_items import MailboxChange
from app.domain.outgoing_message import OutgoingMessage


@dataclass(frozen=True, slots=True)
class FulfilmentLocks:
    """Taken after the order's lock: its mailboxes (in id order), and their holders read."""

    mailboxes: dict[str, Mailbox]  # the order's mailboxes still mirrored, locked
    # Their holders on file (the accounts read, not locked); None: not asked.
    owners: dict[str, HolderOwner] | None
    # False only when no refund of the order was waiting for its payment: read with the
    # order locked, so none can start waiting before the commit (True: go and look).
    refunds_may_wait: bool


@dataclass(frozen=True, slots=True)
class Renewal:
    """An order's fulfilment in its mailboxes (Mailboxes.renew_for_order's arguments)."""

    order_id: str
    changes: tuple[MailboxChange, ...]
    told: tuple[OutgoingMessage, ...]  # what the mail platform and partners are told
    now: datetime
