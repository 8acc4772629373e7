"""The holder and billing data on file: confirmed at each renewal instead of retyped.

Each account has a record; a mailbox has its own only where its holder differs from the
account's. An order that omits the holder uses the record on file for its mailboxes; an
order that gives one makes it the record when it is fulfilled (domain.md, "Order").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.domain.billing import Billing, Holder, billing_errors
from app.domain.errors import FieldError, InvalidOrderRequest, InvalidRequest


@dataclass(frozen=True, slots=True)
class HolderRecord:
    """Who the holder is and how they are invoiced: always stored and replaced together."""

    holder: Holder
    billing: Billing


class HolderSource(StrEnum):
    MAILBOX = "mailbox"  # the mailbox's own holder, different from its account's
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class HolderOnFile:
    record: HolderRecord
    source: HolderSource


@dataclass(frozen=True, slots=True)
class HolderOwner:
    """Where a mailbox's holder is on file: its own record (`own`) where it has one,
    else its account's (`account`, None when the account has none either)."""

    account_id: str
    own: HolderRecord | None
    account: HolderRecord | None


class HolderRequired(InvalidOrderRequest):
    """The order gives no holder and its mailboxes have no single holder on file."""

    code = "holder_required"

    def __init__(self, field_code: str = "holder_required") -> None:
        super().__init__([FieldError("holder", field_code)])


def check_holder_record(record: HolderRecord) -> None:
    """Raise InvalidRequest naming every mistake: the same rules as an order's holder."""
    errors = billing_errors(record.holder, record.billing)
    if errors:
        raise InvalidRequest(errors)


def holder_on_file(
    mailbox_record: HolderRecord | None, account_record: HolderRecord | None
) -> HolderOnFile | None:
    """The mailbox's own record where it has one, else its account's, else nothing."""
    if mailbox_record is not None:
        return HolderOnFile(mailbox_record, HolderSource.MAILBOX)
    if account_record is not None:
        return HolderOnFile(account_record, HolderSource.ACCOUNT)
    return None


def common_holder_on_file(on_file: Mapping[str, HolderOnFile | None]) -> HolderRecord:
    """The one record every mailbox of an order has on file; HolderRequired otherwise
    (one order has one holder: mailboxes of different holders need it given)."""
    records = {found.record for found in on_file.values() if found is not None}
    if not records or any(found is None for found in on_file.values()):
        raise HolderRequired()
    if len(records) > 1:
        raise HolderRequired("holders_on_file_differ")
    return records.pop()


def order_holder(
    holder: Holder | None, billing: Billing | None, on_file: HolderRecord | None
) -> tuple[HolderRecord, bool]:
    """The holder and billing an order uses, and True when both came from the file.

    A holder given without billing data has none (as before records existed); billing
    given without a holder goes with the holder on file.
    """
    if holder is not None:
        return HolderRecord(holder, billing or Billing()), False
    if on_file is None:
        raise HolderRequired()
    if billing is not None:
        return HolderRecord(on_file.holder, billing), False
    return on_file, True
