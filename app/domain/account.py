"""A customer account: who owns mailboxes, how to write to them, and their holder on file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.holder_record import HolderRecord


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    email: str
    language: str  # "it" | "en": the language of the emails it receives
    holder: HolderRecord | None = None  # the holder on file for its mailboxes
    updated_by: str | None = None  # the staff member who last created or replaced it
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HolderVersion:
    """A record on file that was replaced: kept so nobody's data is silently lost."""

    mailbox_id: str | None  # None: the account's own record
    record: HolderRecord | None
    replaced_at: datetime
    replaced_by: str  # "order:<id>" or "staff:<id>"
