"""The quote store on PostgreSQL, in plain asyncpg calls over the pooled connection.

Its statements are SQLAlchemy Core built from the same tables, column lists
(mappers.MAILBOX_COLUMNS, quote_repository.QUOTE_RECORD_COLUMNS) and visibility rules
(app/db/visibility.py) as the repositories, compiled once: a new Mailbox field or a
changed rule reaches both stores (tests/integration/test_quote_stores.py runs them
side by side, and the quote API tests run on each).

Given a MailboxMemory, it prices a repeated quote from the mailboxes as last read, and
its one statement inserts the quote only if they are unchanged (app/db/mailbox_memory.py).
Given an OrderMemory, it remembers each customer's quote it stored, with the account's
language that the insert returns, for the order that follows (app/db/order_memory.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.expression import Insert, Select

from app.db.asyncpg_rows import AttributeRow
from app.db.asyncpg_statements import DIALECT, CompiledStatement, per_role
from app.db.fixed_rows import fixed_rows
from app.db.group_commit import RowWrites, WritesAlone
from app.db.mailbox_memory import MailboxesSeen, RememberedMailbox, seen_of
from app.db.mappers import (
    MAILBOX_COLUMNS,
    MAILBOX_FIELDS,
    MAILBOX_ROW_VERSION,
    mailbox_from_values,
)
from app.db.models import AccountRow, MailboxRow, OrderRow, PendingRenewalRow, QuoteRow
from app.db.pooled_connection import KeptConnection
from app.db.process_memory import ProcessMemory
from app.db.quote_repository import (
    QUOTE_RECORD_COLUMNS,
    QuoteRecord,
    quote_record,
    quote_values,
)
from app.db.visibility import VIEWER_SUBJECT, mailboxes_visible_to, quotes_visible_to
from app.domain.access import PendingOrder, Principal, Role


# A mailbox's version as far as a quote is concerned: its row's version (xmin) and its
# unpaid order (rule 3), which lives in pending_renewals. The same string is read with the
# mailbox (MailboxMemory) and recomputed by the insert that checks it.
def mailbox_version() -> ColumnElement[str]:
    return func.concat_ws(
        " ",
        MailboxRow.id,
        MAILBOX_ROW_VERSION,
        func.coalesce(PendingRenewalRow.order_id, "-"),
    )


# The preferred language of the account `language_of` (an order's emails follow it).
ACCOUNT_LANGUAGE = (
    select(AccountRow.language)
    .where(AccountRow.id == bindparam("language_of", type_=String))
    .scalar_subquery()
)


def _mailboxes(viewer: Principal, count: int) -> Select[Any]:
    """The `count` mailboxes asked for and their unpaid order (rule 3) in one round trip
    (app/db/fixed_rows.py: `ids` holds `count` ids)."""
    asked = fixed_rows({"ids": String()}, count, "asked")
    return (
        select(
            *MAILBOX_COLUMNS,
            PendingRenewalRow.order_id.label("pending_order_id"),
            OrderRow.owner_role.label("pending_owner_role"),
            OrderRow.owner_id.label("pending_owner_id"),
            mailbox_version().label("version"),
            MAILBOX_ROW_VERSION.label("row_version"),
        )
        .outerjoin(PendingRenewalRow, PendingRenewalRow.mailbox_id == MailboxRow.id)
        .outerjoin(OrderRow, OrderRow.id == PendingRenewalRow.order_id)
        .where(MailboxRow.id.in_(select(asked.c.ids)), mailboxes_visible_to(viewer))
    )


def _insert_if_unchanged(
    viewer: Principal, columns: tuple[str, ...], ids: int, versions: int
) -> Insert:
    """The quote's row, inserted only if each of its mailboxes is still at the version
    it was priced from and visible to `viewer` (a quote priced from MailboxMemory).
    Built for `ids` mailboxes and `versions` versions (app/db/fixed_rows.py)."""
    quoted = fixed_rows({"ids": String()}, ids, "quoted")
    as_priced = fixed_rows({"versions": String()}, versions, "as_priced")
    unchanged = (
        select(func.count())
        .select_from(MailboxRow)
        .outerjoin(PendingRenewalRow, PendingRenewalRow.mailbox_id == MailboxRow.id)
        .where(
            MailboxRow.id.in_(select(quoted.c.ids)),
            mailboxes_visible_to(viewer),
            mailbox_version().in_(select(as_priced.c.versions)),
        )
        .scalar_subquery()
    )
    table = QuoteRow.__table__.columns
    row = select(*(bindparam(key, type_=table[key].type) for key in columns)).where(
        unchanged == bindparam("expected")
    )
    return (
        postgresql.insert(QuoteRow.__table__)  # type: ignore[arg-type]
        .from_select(list(columns), row)
        .on_conflict_do_nothing()
        .returning(QuoteRow.id, ACCOUNT_LANGUAGE)
    )


def _quote(viewer: Principal) -> Select[Any]:
    return select(*QUOTE_RECORD_COLUMNS).where(
        QuoteRow.id == bindparam("quote_id"), quotes_visible_to(viewer)
    )


@cache  # per number of mailboxes: at most MAX_ITEMS (a quote's limit) of them
def visible_mailboxes(count: int) -> dict[Role, CompiledStatement]:
    return per_role(lambda viewer: _mailboxes(viewer, count))


VISIBLE_MAILBOXES = visible_mailboxes(1)  # the columns, whatever the count
_VISIBLE_QUOTE = per_role(_quote)
# The mailboxes' columns come first, in Mailbox's field order, and none is converted on
# the way out: a record's first values are a Mailbox's (mailbox_from_row's job, without
# a dict and an attribute lookup per column: a quote's hottest loop).
if any(
    statement.columns[: len(MAILBOX_FIELDS)] != MAILBOX_FIELDS
    for statement in VISIBLE_MAILBOXES.values()
) or any(
    column.type.dialect_impl(DIALECT).result_processor(DIALECT, None) is not None
    for column in MAILBOX_COLUMNS
):
    raise RuntimeError("VISIBLE_MAILBOXES no longer starts with the Mailbox fields as stored")
_QUOTE_BY_KEY = CompiledStatement(
    select(*QUOTE_RECORD_COLUMNS).where(
        QuoteRow.owner_role == bindparam("owner_role"),
        QuoteRow.owner_id == bindparam("owner_id"),
        QuoteRow.idempotency_key == bindparam("key"),
    )
)


@cache
def _insert_quote(columns: tuple[str, ...]) -> CompiledStatement:
    """INSERT … ON CONFLICT DO NOTHING of exactly these columns, as the session would;
    a row (the quote's id, the owner's account language) when it inserted."""
    statement = (
        postgresql.insert(QuoteRow.__table__)  # type: ignore[arg-type]
        .on_conflict_do_nothing()
        .returning(QuoteRow.id, ACCOUNT_LANGUAGE)
    )
    return CompiledStatement(statement, column_keys=list(columns))


@cache  # per columns (a few sets) and number of mailboxes (at most MAX_ITEMS)
def _insert_quote_if_unchanged(
    columns: tuple[str, ...], ids: int, versions: int
) -> dict[Role, CompiledStatement]:
    return per_role(lambda viewer: _insert_if_unchanged(viewer, columns, ids, versions))


class AsyncpgQuoteStore:
    def __init__(
        self, db: Any, memory: ProcessMemory | None = None, writes: RowWrites | None = None
    ) -> None:
        # An asyncpg Connection with SQLAlchemy's JSON codecs, or KeptConnection.
        self._db = db
        # The quote's insert: grouped with other requests' (app/db/group_commit.py), or
        # alone on `db`.
        self._writes = WritesAlone(db) if writes is None else writes
        # The read's connection, to send the write's group (app/db/group_commit.py).
        self._kept = db if isinstance(db, KeptConnection) else None
        # None: every quote reads its mailboxes, and none is remembered for its order.
        self._memory = None if memory is None else memory.mailboxes
        self._orders = None if memory is None else memory.orders

    async def mailboxes_to_quote(
        self, principal: Principal, ids: Sequence[str], *, afresh: bool = False
    ) -> MailboxesSeen:
        memory = self._memory
        if not afresh and memory is not None:
            recalled = memory.recall(ids)
            if recalled is not None:
                return seen_of(recalled, recalled=True)
        statement = visible_mailboxes(len(ids))[principal.role]
        args = statement.args({"ids": list(ids), VIEWER_SUBJECT: principal.subject})
        read = [_remembered(record) for record in await self._db.fetch(statement.sql, *args)]
        if memory is not None:
            memory.remember(read)
        return seen_of(read, recalled=False)

    async def add(
        self, record: QuoteRecord, idempotency_key: str | None, seen: MailboxesSeen
    ) -> bool:
        owner = record.owner
        values = quote_values(record, idempotency_key)
        columns = tuple(values)
        # RETURNING the owner's language: a customer's order is placed in the language of
        # their account, and this saves the order reading it (app/db/order_memory.py).
        values["language_of"] = owner.subject if owner.role is Role.CUSTOMER else None
        if seen.remembered is None:
            statement = _insert_quote(columns)
        else:
            ids, versions = list(seen.mailboxes), list(seen.remembered)
            statement = _insert_quote_if_unchanged(columns, len(ids), len(versions))[owner.role]
            values |= {
                "ids": ids,
                "versions": versions,
                "expected": len(seen.remembered),
                VIEWER_SUBJECT: owner.subject,
            }
        stored = await self._writes.fetchrow(
            statement.sql, statement.args(values), record.id, self._kept
        )
        if stored is None:
            return False
        orders = self._orders
        if orders is not None and orders.enabled and owner.role is Role.CUSTOMER:
            orders.remember_quote(record, stored[1])
        return True

    async def by_idempotency_key(self, owner: Principal, key: str) -> QuoteRecord | None:
        values = {"owner_role": owner.role.value, "owner_id": owner.subject, "key": key}
        return await self._one(_QUOTE_BY_KEY, values)

    async def get_visible(self, principal: Principal, quote_id: str) -> QuoteRecord | None:
        values = {"quote_id": quote_id, VIEWER_SUBJECT: principal.subject}
        return await self._one(_VISIBLE_QUOTE[principal.role], values)

    async def _one(
        self, statement: CompiledStatement, values: Mapping[str, Any]
    ) -> QuoteRecord | None:
        record = await self._db.fetchrow(statement.sql, *statement.args(values))
        return None if record is None else quote_record(AttributeRow(statement.row(record)))


def _remembered(record: Any) -> RememberedMailbox:
    # The first columns are a Mailbox's fields (VISIBLE_MAILBOXES).
    mailbox = mailbox_from_values(dict(zip(MAILBOX_FIELDS, record, strict=False)))
    pending = None
    if record["pending_order_id"]:
        owner = Principal(Role(record["pending_owner_role"]), record["pending_owner_id"])
        pending = PendingOrder(record["pending_order_id"], owner)
    return RememberedMailbox(mailbox, pending, record["version"], record["row_version"])
