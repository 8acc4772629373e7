"""Payment events on the lean unit of work: the webhook's statements in plain asyncpg.

A payment is stored and its order locked in ONE statement, and the event is saved with
the order it changed in ONE statement (data-modifying CTEs); the waiting refunds are
read without the ORM. The statements are built from the same tables, column lists and
mappers as PaymentEventRepository and OrderRepository (order_documents), compiled once;
every other method is the SQLAlchemy repository's, on the same transaction.
"""

from __future__ import annotations

from copy import deepcopy
from functools import cache
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    any_,
    exists,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import bindparam
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from app.db import order_mailboxes
from app.db.asyncpg_statements import CompiledStatement
from app.db.models import MailboxRow, OrderRow, PaymentEventRow
from app.db.order_documents import order_from_row, state_values
from app.db.payment_event_repository import (
    MUTABLE,
    PaymentEventRepository,
    mutable_values,
    stored_as_added,
    stored_from_row,
)
from app.db.pg_mailbox_repository import (
    AsyncpgMailboxRepository,
    LocksTaken,
    renewal_values,
    with_renewal,
)
from app.domain.fulfilment_steps import FulfilmentLocks, Renewal
from app.domain.order import sequence_of
from app.domain.order_aggregate import Order
from app.domain.stored_payment_event import StoredPaymentEvent

_EVENTS = cast(Table, PaymentEventRow.__table__)
_ORDERS = cast(Table, OrderRow.__table__)
_EVENT_ROW_ID = "event_row_id"  # the stored event's id, beside the order's columns
# The columns' Python-side defaults (attempts = 0), which SQLAlchemy applies when it runs
# an INSERT itself: given here, so a compiled INSERT never leaves them NULL.
_DEFAULTS = {
    c.key: c.default.arg for c in _EVENTS.c if isinstance(c.default, ScalarElementColumnDefault)
}
_ORDER_SEQ, _ORDER_ID = "locked_order_seq", "locked_order_id"  # not the event's order_ref
_ORDER_XMIN = literal_column("orders.xmin::text", String)  # a new one for every update
_LOCKED_VERSION, _REFUNDS_MAY_WAIT = "locked_version", "refunds_may_wait"
_WAITING_NOW = "refund_waiting_now"


@cache
def _insert(columns: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id of exactly these columns."""
    return (
        postgresql.insert(_EVENTS)
        .values({name: bindparam(name, type_=_EVENTS.c[name].type) for name in columns})
        .on_conflict_do_nothing()
        .returning(_EVENTS.c.id)
    )


@cache
def _add(columns: tuple[str, ...]) -> CompiledStatement:
    return CompiledStatement(_insert(columns))


@cache
def _add_locking_order(columns: tuple[str, ...], by_seq: bool) -> CompiledStatement:
    """The event inserted and, only when it was new, the order it names locked, then
    that order's mailboxes locked with their holders on file (as lock_for_fulfilment
    takes and reads them, for the payment that goes on to fulfil it): no row for a
    duplicate; the event's id and NULL order columns for an unknown order; else one row
    per mailbox, the order's columns repeated.

    Whether a refund of the order waits is read here too, from the statement's snapshot,
    taken before any wait for the order's lock. A refund that started waiting during
    that wait saved the order (every applied event does), so the locked order is then a
    newer version than the snapshot's: `refunds_may_wait` says so, and the payment looks
    again (payments._settle_waiting_refunds)."""
    stored = _insert(columns).cte("stored")
    # As OrderRepository.by_number: an order number names it by its sequence, else its id.
    named: ColumnElement[bool] = (
        _ORDERS.c.seq == bindparam(_ORDER_SEQ) if by_seq else _ORDERS.c.id == bindparam(_ORDER_ID)
    )
    # Asked once, of the order, not of each of its mailboxes' rows (as in
    # pg_payment_in_one_write: a plan that scanned every payment event per statement).
    waiting = exists().where(
        PaymentEventRow.order_id == _ORDERS.c.id, PaymentEventRow.outcome == "wait"
    )
    locked = (
        select(_ORDERS, _ORDER_XMIN.label(_LOCKED_VERSION), waiting.label(_WAITING_NOW))
        .where(named, exists(select(stored.c.id)))
        .with_for_update()
        .cte("locked")
    )
    seen = select(_ORDER_XMIN).where(named).scalar_subquery()  # the snapshot's version
    may_wait = or_(locked.c[_WAITING_NOW], locked.c[_LOCKED_VERSION].is_distinct_from(seen))
    mailboxes = (
        order_mailboxes.with_owners()
        .where(MailboxRow.id == any_(order_mailboxes.ids_in(locked)))
        .order_by(MailboxRow.id)  # as lock_for_renewal: two payments never lock crosswise
        .with_for_update(of=MailboxRow)
        .cte("locked_mailboxes")
    )
    return CompiledStatement(
        select(
            stored.c.id.label(_EVENT_ROW_ID),
            *(c for c in locked.c if c.key not in (_LOCKED_VERSION, _WAITING_NOW)),
            may_wait.label(_REFUNDS_MAY_WAIT),
            *mailboxes.c,
        )
        .select_from(stored.outerjoin(locked, true()).outerjoin(mailboxes, true()))
        .order_by(mailboxes.c[f"{order_mailboxes.PREFIX}id"])
    )


def _set_event() -> Any:
    return (
        update(PaymentEventRow)
        .where(PaymentEventRow.id == bindparam(_EVENT_ROW_ID))
        .values({name: bindparam(name, type_=_EVENTS.c[name].type) for name in MUTABLE})
    )


_SAVE = CompiledStatement(_set_event())


@cache
def _save_with_order(
    order_columns: tuple[str, ...], renewed_messages: int | None
) -> CompiledStatement:
    """The event's UPDATE with the order's (OrderRepository.save's columns) in a CTE, and
    the renewal its fulfilment carried out (renewed_messages: how many it queues; None:
    no renewal) in more (AsyncpgMailboxRepository.renew_for_order's statement)."""
    saved_order = (
        update(OrderRow)
        .where(OrderRow.id == bindparam("order_row_id"))
        .values(
            {name: bindparam(f"order_{name}", type_=_ORDERS.c[name].type) for name in order_columns}
        )
        .cte("saved_order")
    )
    statement = _set_event().add_cte(saved_order)
    if renewed_messages is not None:
        statement = with_renewal(statement, renewed_messages)
    return CompiledStatement(statement)


_PAYLOAD_OF = CompiledStatement(
    select(PaymentEventRow.payload).where(PaymentEventRow.id == bindparam(_EVENT_ROW_ID))
)
_WAITING = CompiledStatement(
    select(PaymentEventRow.__table__)
    .where(PaymentEventRow.order_id == bindparam("order_id"), PaymentEventRow.outcome == "wait")
    .order_by(PaymentEventRow.id)
    .with_for_update()
)


class AsyncpgPaymentEventRepository(PaymentEventRepository):
    def __init__(
        self, session: AsyncSession, connection: Any, taken: LocksTaken | None = None
    ) -> None:
        super().__init__(session)
        self._db = connection  # the lean unit of work's asyncpg connection
        # Where the mailbox locks add_locking_order takes are left for lock_for_fulfilment.
        self._taken = LocksTaken() if taken is None else taken
        # What the events stored here were sent with (never updated afterwards): a
        # fulfilment that reads it back (a card kept for renewals) needn't ask again.
        self._payloads: dict[int, Any] = {}

    async def add(self, values: dict[str, Any]) -> StoredPaymentEvent | None:
        values = {**_DEFAULTS, **values}
        statement = _add(tuple(values))
        found = await self._db.fetchval(statement.sql, *statement.args(values))
        return None if found is None else self._added(int(found), values)

    def _added(self, row_id: int, values: dict[str, Any]) -> StoredPaymentEvent:
        self._payloads[row_id] = values.get("payload")
        return stored_as_added(row_id, values)

    async def add_locking_order(
        self, values: dict[str, Any], order_ref: str | None
    ) -> tuple[StoredPaymentEvent | None, Order | None]:
        if order_ref is None:
            return await self.add(values), None
        values = {**_DEFAULTS, **values}
        seq = sequence_of(order_ref)
        statement = _add_locking_order(tuple(values), seq is not None)
        records = await self._db.fetch(
            statement.sql, *statement.args({**values, _ORDER_SEQ: seq, _ORDER_ID: order_ref})
        )
        if not records:
            return None, None  # a duplicate
        first = statement.row(records[0])
        stored = self._added(int(first[_EVENT_ROW_ID]), values)
        if first["id"] is None:
            return stored, None
        order = order_from_row(SimpleNamespace(**first))  # the columns of an OrderRow
        self._taken.leave(order.id, order.mailbox_ids, _locks(statement, records))
        return stored, order

    async def save(
        self,
        event: StoredPaymentEvent,
        with_order: Order | None = None,
        renewal: Renewal | None = None,
    ) -> None:
        if renewal is not None and (with_order is None or not renewal.changes):
            # Not the fulfilment's one write (an order always renews some mailboxes):
            # the renewal first, on its own, as the ORM repository does.
            mailboxes = AsyncpgMailboxRepository(self._session, self._db)
            await mailboxes.renew_for_order(
                renewal.order_id, renewal.changes, renewal.told, renewal.now
            )
            renewal = None
        values = {_EVENT_ROW_ID: event.id, **mutable_values(event)}
        if with_order is None:
            await self._db.execute(_SAVE.sql, *_SAVE.args(values))
            return
        state = state_values(with_order)
        statement = _save_with_order(tuple(state), len(renewal.told) if renewal else None)
        values["order_row_id"] = with_order.id
        values |= {f"order_{name}": value for name, value in state.items()}
        if renewal is not None:
            values |= renewal_values(renewal.order_id, renewal.changes, renewal.told, renewal.now)
        await self._db.execute(statement.sql, *statement.args(values))

    async def waiting_for_payment(self, order_id: str) -> list[StoredPaymentEvent]:
        records = await self._db.fetch(_WAITING.sql, *_WAITING.args({"order_id": order_id}))
        return [stored_from_row(SimpleNamespace(**_WAITING.row(r))) for r in records]

    async def payload_of(self, event_row_id: int) -> dict[str, Any] | None:
        if event_row_id in self._payloads:
            payload = self._payloads[event_row_id]
        else:
            args = _PAYLOAD_OF.args({_EVENT_ROW_ID: event_row_id})
            record = await self._db.fetchrow(_PAYLOAD_OF.sql, *args)
            payload = None if record is None else _PAYLOAD_OF.row(record)["payload"]
        return None if payload is None else deepcopy(dict(payload))


def _locks(statement: CompiledStatement, records: list[Any]) -> FulfilmentLocks:
    """The mailbox rows of _add_locking_order as lock_for_fulfilment answers (owners
    read, whether asked or not)."""
    mailboxes, owners, _ = order_mailboxes.read_back(statement.row(r) for r in records)
    return FulfilmentLocks(mailboxes, owners, refunds_may_wait=bool(records[0][_REFUNDS_MAY_WAIT]))
