"""An order's mailboxes with their holders on file, read in the statement that reads the
order (a payment's): their columns beside the order's, their ids from its document, and
the rows turned back into mailboxes, holders and row versions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import Select

from app.db.asyncpg_rows import AttributeRow
from app.db.holder_repository import owner_from_row
from app.db.mappers import (
    MAILBOX_COLUMNS,
    MAILBOX_FIELDS,
    MAILBOX_ROW_VERSION,
    mailbox_from_values,
)
from app.db.models import AccountRow, MailboxRow
from app.domain.holder_record import HolderOwner
from app.domain.mailbox import Mailbox

PREFIX = "mailbox_"  # of each mailbox column, beside the order's
OWNER_FOUND = "mailbox_owner_account_id"  # NULL: no account row, so no owner
VERSION = "mailbox_version"  # the row's xmin: a new one for every update
# Each column read back, as (its label, the field it fills): prefixes stripped once.
_MAILBOX_KEYS = tuple((f"{PREFIX}{name}", name) for name in MAILBOX_FIELDS)
_OWNER_KEYS = tuple(
    (f"{PREFIX}{name}", name)
    for name in ("account_id", "holder", "billing", "account_holder", "account_billing")
)


def ids_in(order: Any) -> ColumnElement[Any]:
    """The mailbox ids of the order row `order` (a CTE or subquery of orders), as an
    array: mailboxes' primary key finds them whatever the planner guesses of the items."""
    item = func.jsonb_array_elements(order.c.document["items"], type_=JSONB).column_valued("item")
    return func.array(select(item["mailbox_id"].astext).select_from(order).scalar_subquery())


def with_owners() -> Select[Any]:
    """The mailboxes' columns, their row version and their holders on file (their own
    documents and their account's, the accounts not locked), each labelled PREFIX…"""
    return select(
        *(column.label(f"{PREFIX}{column.key}") for column in MAILBOX_COLUMNS),
        MAILBOX_ROW_VERSION.label(VERSION),
        MailboxRow.holder.label(f"{PREFIX}holder"),
        MailboxRow.billing.label(f"{PREFIX}billing"),
        AccountRow.holder.label(f"{PREFIX}account_holder"),
        AccountRow.billing.label(f"{PREFIX}account_billing"),
        AccountRow.id.label(OWNER_FOUND),
    ).outerjoin(AccountRow, AccountRow.id == MailboxRow.account_id)


def read_back(
    rows: Iterable[Mapping[str, Any]],
) -> tuple[dict[str, Mailbox], dict[str, HolderOwner], dict[str, str]]:
    """Rows with with_owners' columns (NULL where the order has none): the mailboxes,
    their holders on file (as Holders.owners) and their row versions, by id."""
    mailboxes: dict[str, Mailbox] = {}
    owners: dict[str, HolderOwner] = {}
    versions: dict[str, str] = {}
    for row in rows:
        if row[f"{PREFIX}id"] is None:
            continue
        mailbox = mailbox_from_values({name: row[key] for key, name in _MAILBOX_KEYS})
        mailboxes[mailbox.id] = mailbox
        versions[mailbox.id] = row[VERSION]
        if row[OWNER_FOUND] is not None:
            owners[mailbox.id] = owner_from_row(
                AttributeRow({name: row[key] for key, name in _OWNER_KEYS})
            )
    return mailboxes, owners, versions
