"""A payment that fulfils its order in two round trips: one read, then one write that is
all or nothing.

The transactional path (payments.receive_event on the lean unit of work) takes four:
BEGIN, the event stored with its order and mailboxes locked, the order, renewal and event
written, COMMIT. Here, on a pooled connection without a transaction:

1. `read`: whether the event is stored already, the order it names with its row version
   (`xmin`), the order's mailboxes with theirs and their holders on file, and whether a
   refund of the order waits. Or `recall`: the same facts without a round trip, for an
   order this process placed (app/db/placed_order_memory.py); the write then also
   checks that every mailbox's holder on file is still the one the order gave.
2. `write`: ONE statement, hence atomic: the event inserted as applied, the order saved,
   its mailboxes renewed, their schedules dropped, its holds released, the platform and
   partners told; the order and every mailbox only where still the version read.

Every applied event saves its order, so a refund that came in between (waiting or not)
changed the order's version. When anything moved between the two round trips (the event
stored meanwhile, the order or a mailbox changed), the write fails as a whole and answers
None: the caller applies the event on the transactional path instead. The locks are
taken in that path's order (event, order, mailboxes).

The statements are built from the same tables, columns and helpers as the transactional
path's (pg_payment_event_repository, pg_mailbox_repository), compiled once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import asyncpg
from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import order_mailboxes
from app.db.asyncpg_rows import AttributeRow
from app.db.asyncpg_statements import CompiledStatement, fails_unless
from app.db.fixed_rows import fixed_rows
from app.db.group_commit import GroupCommit, RowWrites, WritesAlone
from app.db.holder_documents import billing_to_document, holder_to_document
from app.db.models import AccountRow, MailboxRow, OrderRow, PaymentEventRow
from app.db.order_documents import order_from_row, state_values
from app.db.payment_event_repository import mutable_values
from app.db.pg_mailbox_repository import guarded_renewal, renewal_values, with_renewal_ctes
from app.db.placed_order_memory import PlacedOrderMemory
from app.db.pooled_connection import KeptConnection, autocommit_connection
from app.domain.fulfilment_steps import FulfilmentLocks, Renewal
from app.domain.order import sequence_of
from app.domain.order_aggregate import Order
from app.domain.stored_payment_event import StoredPaymentEvent

_EVENTS = cast(Table, PaymentEventRow.__table__)
_ORDERS = cast(Table, OrderRow.__table__)
_ORDER_XMIN = literal_column("orders.xmin::text", String)
_DUPLICATE, _ORDER_VERSION, _WAITING = "duplicate", "order_version", "refunds_waiting"


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """What `read` found: the event stored already (duplicate), else the order it names
    (None: none), its version, its mailboxes and holders as lock_for_fulfilment would
    give them (not locked: `refunds_may_wait` is whether one waits now), their versions.
    Or what `recall` remembered (`recalled`): no duplicate looked for, no holders read."""

    duplicate: bool
    order: Order | None
    order_version: str | None
    locks: FulfilmentLocks
    versions: dict[str, str]
    recalled: bool = False


@cache
def _read(by_seq: bool) -> CompiledStatement:
    named: ColumnElement[bool] = (
        _ORDERS.c.seq == bindparam("order_seq") if by_seq else _ORDERS.c.id == bindparam("order_id")
    )
    stored = exists().where(
        PaymentEventRow.provider == bindparam("provider"),
        PaymentEventRow.event_id == bindparam("event_id"),
    )
    one = select(stored.label(_DUPLICATE)).subquery("one")
    # Asked once, of the order, not of each of its mailboxes' rows: asked of those,
    # PostgreSQL's generic plan scanned every payment event once per read for a hash of
    # the orders with one waiting (outcome is a parameter there, so any share may match).
    waiting = exists().where(
        PaymentEventRow.order_id == _ORDERS.c.id, PaymentEventRow.outcome == "wait"
    )
    order = (
        select(_ORDERS, _ORDER_XMIN.label(_ORDER_VERSION), waiting.label(_WAITING))
        .where(named)
        .cte("named")
    )
    mailboxes = (
        order_mailboxes.with_owners()
        .where(MailboxRow.id == any_(order_mailboxes.ids_in(order)))
        .lateral("of_order")
    )
    return CompiledStatement(
        select(one.c[_DUPLICATE], *order.c, *mailboxes.c)
        .select_from(one.outerjoin(order, true()).outerjoin(mailboxes, true()))
        .order_by(mailboxes.c[f"{order_mailboxes.PREFIX}id"])
    )


@cache
def _write(
    columns: tuple[str, ...],
    order_columns: tuple[str, ...],
    mailboxes: int,
    messages: int,
    holders: bool = False,
) -> CompiledStatement:
    """Each CTE reads the one before, so PostgreSQL takes their locks in that order.
    `holders`: it also checks the mailboxes' holders on file (_holders_as_given)."""
    stored = (
        postgresql.insert(_EVENTS)
        .values({name: bindparam(name, type_=_EVENTS.c[name].type) for name in columns})
        .returning(_EVENTS.c.id)
        .cte("stored")
    )
    saved_order = (
        update(OrderRow)
        .where(
            OrderRow.id == bindparam("order_row_id"),
            bindparam("order_version", type_=String) == _ORDER_XMIN,
            exists(select(stored.c.id)),
        )
        .values(
            {name: bindparam(f"order_{name}", type_=_ORDERS.c[name].type) for name in order_columns}
        )
        .returning(OrderRow.id)
        .cte("saved_order")
    )
    renewed = guarded_renewal(exists(select(saved_order.c.id)), mailboxes).cte("renewed_mailboxes")
    all_current = and_counts(saved_order, 1, renewed, mailboxes)
    if holders:
        all_current = and_(all_current, _holders_as_given(mailboxes))
    statement = select(
        # First, the key the group commit hands each row to its request by.
        bindparam("group_key", type_=String).label("group_key"),
        select(stored.c.id).scalar_subquery().label("event_row_id"),
        fails_unless(all_current).label("written"),
    )
    return CompiledStatement(with_renewal_ctes(statement, messages, mailboxes))


def _holders_as_given(mailboxes: int) -> ColumnElement[bool]:
    """Every mailbox renewed has on file the holder the order gave, to the byte: its own
    record where it has one, else its account's (the accounts not locked, as the read
    reads them). Then fulfilment replaces no record (holder_records_to_replace); a
    record equal but written otherwise only sends the payment to the read."""
    holder = bindparam("given_holder", type_=JSONB)
    billing = bindparam("given_billing", type_=JSONB)
    as_given = case(
        (
            func.jsonb_typeof(MailboxRow.holder) == "object",
            and_(MailboxRow.holder == holder, MailboxRow.billing == billing),
        ),
        else_=and_(AccountRow.holder == holder, AccountRow.billing == billing),
    )
    # As rows of a known number, not `= ANY` of an array: PostgreSQL keeps one plan.
    given = fixed_rows({"holder_mailbox_ids": String()}, mailboxes, "holders_of")
    found = (
        select(func.count())
        .select_from(given)
        .join(MailboxRow, MailboxRow.id == given.c.holder_mailbox_ids)
        .outerjoin(AccountRow, AccountRow.id == MailboxRow.account_id)
        .where(as_given)
        .scalar_subquery()
    )
    return found == mailboxes


def and_counts(saved_order: Any, orders: int, renewed: Any, mailboxes: int) -> ColumnElement[bool]:
    """The order and every mailbox written (each was still the version read)."""
    saved = select(func.count()).select_from(saved_order).scalar_subquery()
    renewed_count = select(func.count()).select_from(renewed).scalar_subquery()
    return (saved == orders) & (renewed_count == mailboxes)


class PaymentInOneWrite:
    """`read`, then `write`, outside any transaction: on one pooled asyncpg connection, or
    each statement on its own with the write in a group commit."""

    def __init__(
        self, db: Any, writes: RowWrites | None = None, placed: PlacedOrderMemory | None = None
    ) -> None:
        self._db = db  # an asyncpg Connection, or KeptConnection
        self._writes = WritesAlone(db) if writes is None else writes
        # The read's connection, to send the write's group (app/db/group_commit.py).
        self._kept = db if isinstance(db, KeptConnection) else None
        self._placed = placed

    def recall(self, order_ref: str) -> PaymentFacts | None:
        """`read`'s facts as remembered of an order this process placed (None: it didn't,
        or forgot). Nothing is asked of the database: `write` checks them."""
        placed = None if self._placed is None else self._placed.take(order_ref)
        if placed is None:
            return None
        locks = FulfilmentLocks(placed.mailboxes, None, refunds_may_wait=False)
        return PaymentFacts(False, placed.order, placed.version, locks, placed.versions, True)

    def recalled(self, written: bool) -> None:
        """A payment from `recall` was written, or is read for now."""
        if self._placed is not None:
            self._placed.outcome(written)

    async def read(self, values: Mapping[str, Any], order_ref: str) -> PaymentFacts:
        seq = sequence_of(order_ref)
        statement = _read(seq is not None)
        args = statement.args(
            {
                "provider": values["provider"],
                "event_id": values["event_id"],
                "order_seq": seq,
                "order_id": order_ref,
            }
        )
        rows = [statement.row(r) for r in await self._db.fetch(statement.sql, *args)]
        first = rows[0]
        nothing = FulfilmentLocks({}, {}, refunds_may_wait=True)
        if first[_DUPLICATE] or first["id"] is None:
            return PaymentFacts(bool(first[_DUPLICATE]), None, None, nothing, {})
        order = order_from_row(AttributeRow(first))
        mailboxes, owners, versions = order_mailboxes.read_back(rows)
        locks = FulfilmentLocks(mailboxes, owners, refunds_may_wait=bool(first[_WAITING]))
        return PaymentFacts(False, order, first[_ORDER_VERSION], locks, versions)

    async def write(
        self,
        values: Mapping[str, Any],
        event: StoredPaymentEvent,
        order: Order,
        order_version: str,
        renewal: Renewal,
        versions: Mapping[str, str],
        *,
        check_holders: bool = False,
    ) -> int | None:
        """The event's row id, or None: something moved since `read`, nothing written.
        `check_holders`: the holders on file weren't read (`recall`): the write checks
        them instead."""
        columns = {**values, **mutable_values(event)}
        state = state_values(order)
        statement = _write(
            tuple(columns), tuple(state), len(renewal.changes), len(renewal.told), check_holders
        )
        args = (
            columns
            | {"order_row_id": order.id, "order_version": order_version}
            | {f"order_{name}": value for name, value in state.items()}
            | renewal_values(renewal.order_id, renewal.changes, renewal.told, renewal.now)
            | {"versions": [versions.get(change.mailbox_id) for change in renewal.changes]}
        )
        if check_holders:
            args["given_holder"] = holder_to_document(order.holder.holder)
            args["given_billing"] = billing_to_document(order.holder.billing)
            args["holder_mailbox_ids"] = [change.mailbox_id for change in renewal.changes]
        try:
            key = f"{values['provider']} {values['event_id']}"  # unique, as the event's row
            record = await self._writes.fetchrow(
                statement.sql, statement.args(args | {"group_key": key}), key, self._kept
            )
        except GAVE_WAY:
            return None
        return int(record["event_row_id"])


# What the write fails with when something moved since the read: the event stored
# meanwhile (a unique key), the order or a mailbox changed, or a deadlock PostgreSQL
# broke. Nothing was written; any other error is an error.
GAVE_WAY = (
    asyncpg.UniqueViolationError,
    asyncpg.DivisionByZeroError,
    asyncpg.DeadlockDetectedError,
)


@asynccontextmanager
async def open_payment_in_one_write(
    engine: AsyncEngine, writes: GroupCommit | None = None, placed: PlacedOrderMemory | None = None
) -> AsyncIterator[PaymentInOneWrite]:
    if writes is not None:  # the read's connection goes on to the write's group, or back
        async with KeptConnection(engine) as kept:
            yield PaymentInOneWrite(kept, writes, placed)
        return
    async with autocommit_connection(engine) as connection:
        yield PaymentInOneWrite(connection, placed=placed)
