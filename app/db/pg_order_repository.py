"""Orders on the lean unit of work: the hot statements in plain asyncpg.

Placing an order and applying its payment read and write the orders row, the
pending-renewal guard and the partner credit; here those statements are compiled once
from the same tables and mappers (order_documents) as OrderRepository, whose other
methods (listings, sweeps, reports) keep running through SQLAlchemy on the same
transaction. tests/integration/test_order_repositories.py runs both side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    bindparam,
    delete,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.asyncpg_rows import AttributeRow
from app.db.asyncpg_statements import CompiledStatement
from app.db.mappers import MAILBOX_COLUMNS, mailbox_from_row
from app.db.models import CreditMovementRow, MailboxRow, OrderRow, PartnerRow, PendingRenewalRow
from app.db.order_documents import order_from_row, order_to_values, state_values
from app.db.order_repository import OrderRepository
from app.domain.access import PendingOrder, Principal, Role
from app.domain.mailbox import Mailbox
from app.domain.order import sequence_of
from app.domain.order_aggregate import Order

_ORDERS: Table = OrderRow.__table__  # type: ignore[assignment]
_SEQ, _HELD = "placed_seq", "held_mailbox_ids"  # beside the mailboxes' columns
_NEW_ORDER_COLUMNS = tuple(c.name for c in _ORDERS.c if c.name != "seq")  # seq: the database's


def _insert_order() -> Any:
    return (
        postgresql.insert(_ORDERS)
        .values({name: bindparam(name) for name in _NEW_ORDER_COLUMNS})
        .on_conflict_do_nothing()  # any unique key: the Idempotency-Key or the quote
    )


def _hold(order_id: ColumnElement[str], source: Any) -> Any:
    """INSERT the pending renewals of `mailbox_ids` (in the order given: sorted by the
    caller, so two orders never wait on each other crosswise) for `order_id`; RETURNING
    those held, not those another unpaid order holds already."""
    wanted = (
        func.unnest(bindparam("mailbox_ids", type_=postgresql.ARRAY(String)))
        .table_valued("mailbox_id", with_ordinality="position")
        .render_derived(name="wanted")
    )
    rows = select(wanted.c.mailbox_id, order_id).order_by(wanted.c.position)
    if source is not None:
        rows = rows.select_from(source).join(wanted, true())
    return (
        postgresql.insert(PendingRenewalRow.__table__)  # type: ignore[arg-type]
        .from_select(["mailbox_id", "order_id"], rows)
        .on_conflict_do_nothing(index_elements=["mailbox_id"])
        .returning(PendingRenewalRow.mailbox_id)
    )


def _add_holding() -> Any:
    """The order and its holds in one statement: WITH placed AS (INSERT the order),
    held AS (INSERT its pending renewals FROM placed) SELECT seq, held ids."""
    placed = _insert_order().returning(OrderRow.seq, OrderRow.id).cte("placed")
    held = _hold(placed.c.id, placed).cte("held")
    return select(
        select(placed.c.seq).scalar_subquery().label("seq"),
        select(func.array_agg(held.c.mailbox_id)).scalar_subquery().label("held"),
    )


def _add_holding_locking() -> Any:
    """The order, its holds and the held mailboxes locked, in one statement: WITH placed,
    held (as _add_holding) SELECT seq, held ids, and the columns of each mailbox in
    `held`, locked in id order (a mailbox is locked only once this order holds it, as
    when the service asked in turn: another placement can't hold it meanwhile, so the
    locks here never wait on one). One row even when nothing is locked."""
    placed = _insert_order().returning(OrderRow.seq, OrderRow.id).cte("placed")
    held = _hold(placed.c.id, placed).cte("held")
    locked = (
        select(*MAILBOX_COLUMNS)
        .where(MailboxRow.id.in_(select(held.c.mailbox_id)))
        .order_by(MailboxRow.id)
        .with_for_update()
        .subquery("locked")
    )
    one = select(literal(1).label("one")).subquery("one")
    return select(
        select(placed.c.seq).scalar_subquery().label(_SEQ),
        select(func.array_agg(held.c.mailbox_id)).scalar_subquery().label(_HELD),
        *locked.c,
    ).select_from(one.outerjoin(locked, true()))


def _order_where(where: ColumnElement[bool], lock: bool) -> CompiledStatement:
    stmt = select(_ORDERS).where(where)
    return CompiledStatement(stmt.with_for_update() if lock else stmt)


_ADD = CompiledStatement(_insert_order().returning(OrderRow.seq))
_ADD_HOLDING = CompiledStatement(_add_holding())
_ADD_HOLDING_LOCKING = CompiledStatement(_add_holding_locking())
_HOLD = CompiledStatement(_hold(bindparam("order_id", type_=String), None))
_BY_ID = {lock: _order_where(OrderRow.id == bindparam("order_id"), lock) for lock in (False, True)}
_BY_SEQ = {lock: _order_where(OrderRow.seq == bindparam("seq"), lock) for lock in (False, True)}
_PENDING_ORDER_OF = CompiledStatement(
    select(PendingRenewalRow.order_id, OrderRow.owner_role, OrderRow.owner_id)
    .join(OrderRow, OrderRow.id == PendingRenewalRow.order_id)
    .where(PendingRenewalRow.mailbox_id == bindparam("mailbox_id"))
)
_RELEASE = CompiledStatement(
    delete(PendingRenewalRow).where(PendingRenewalRow.order_id == bindparam("order_id"))
)
_ID_OF_QUOTE = CompiledStatement(
    select(OrderRow.id).where(OrderRow.quote_id == bindparam("quote_id"))
)
_DEBIT = CompiledStatement(
    update(PartnerRow)
    .where(PartnerRow.id == bindparam("partner_id"), PartnerRow.credit_cents >= bindparam("cents"))
    .values(credit_cents=PartnerRow.credit_cents - bindparam("cents"))
    .returning(PartnerRow.credit_cents)
)
_CREDIT_OF = CompiledStatement(
    select(PartnerRow.credit_cents).where(PartnerRow.id == bindparam("partner_id"))
)


@cache
def _save(columns: tuple[str, ...]) -> CompiledStatement:
    """UPDATE of exactly these state columns (order_documents.state_values')."""
    return CompiledStatement(
        update(_ORDERS)
        .where(OrderRow.id == bindparam("order_id"))
        .values({name: bindparam(name) for name in columns})
    )


@cache
def _insert_movement(columns: tuple[str, ...]) -> CompiledStatement:
    """INSERT … ON CONFLICT DO NOTHING of a ledger line, as insert_or_ignore would."""
    statement = postgresql.insert(CreditMovementRow.__table__).on_conflict_do_nothing()  # type: ignore[arg-type]
    return CompiledStatement(statement, column_keys=list(columns))


class AsyncpgOrderRepository(OrderRepository):
    def __init__(self, session: AsyncSession, connection: Any) -> None:
        super().__init__(session)
        self._db = connection  # the lean unit of work's asyncpg connection

    async def add(self, order: Order, idempotency_key: str | None, request_hash: str) -> int | None:
        values = _new_order_values(order, idempotency_key, request_hash)
        seq = await self._db.fetchval(_ADD.sql, *_ADD.args(values))
        return None if seq is None else int(seq)

    async def add_holding_mailboxes(
        self, order: Order, idempotency_key: str | None, request_hash: str
    ) -> tuple[int | None, str | None]:
        wanted = sorted(order.mailbox_ids)
        values = _new_order_values(order, idempotency_key, request_hash) | {"mailbox_ids": wanted}
        record = await self._db.fetchrow(_ADD_HOLDING.sql, *_ADD_HOLDING.args(values))
        if record["seq"] is None:
            return None, None
        return int(record["seq"]), _first_not_held(wanted, record["held"] or ())

    async def add_holding_and_locking(
        self, order: Order, idempotency_key: str | None, request_hash: str
    ) -> tuple[int | None, str | None, dict[str, Mailbox]]:
        wanted = sorted(order.mailbox_ids)
        values = _new_order_values(order, idempotency_key, request_hash) | {"mailbox_ids": wanted}
        statement = _ADD_HOLDING_LOCKING
        records = await self._db.fetch(statement.sql, *statement.args(values))
        first = records[0]
        if first[_SEQ] is None:
            return None, None, {}
        taken = _first_not_held(wanted, first[_HELD] or ())
        if taken is not None:
            return int(first[_SEQ]), taken, {}  # some were locked: the caller rolls back
        rows = (statement.row(record) for record in records if record["id"] is not None)
        mailboxes = (mailbox_from_row(AttributeRow(row)) for row in rows)
        return int(first[_SEQ]), None, {mailbox.id: mailbox for mailbox in mailboxes}

    async def hold_mailboxes(self, order_id: str, mailbox_ids: Sequence[str]) -> str | None:
        wanted = sorted(mailbox_ids)
        values = {"order_id": order_id, "mailbox_ids": wanted}
        held = await self._db.fetch(_HOLD.sql, *_HOLD.args(values))
        return _first_not_held(wanted, [record[0] for record in held])

    async def load(self, order_id: str, *, lock: bool = False) -> Order | None:
        return await self._fetch_one(_BY_ID[lock], {"order_id": order_id})

    async def by_number(self, reference: str, *, lock: bool = False) -> Order | None:
        seq = sequence_of(reference)
        if seq is not None:
            return await self._fetch_one(_BY_SEQ[lock], {"seq": seq})
        return await self._fetch_one(_BY_ID[lock], {"order_id": reference})

    async def _fetch_one(
        self, statement: CompiledStatement, values: dict[str, Any]
    ) -> Order | None:
        record = await self._db.fetchrow(statement.sql, *statement.args(values))
        return None if record is None else order_from_row(AttributeRow(statement.row(record)))

    async def save(self, order: Order) -> None:
        values = state_values(order)
        statement = _save(tuple(values))
        await self._db.execute(statement.sql, *statement.args(values | {"order_id": order.id}))

    async def id_of_quote(self, quote_id: str) -> str | None:
        found: str | None = await self._db.fetchval(
            _ID_OF_QUOTE.sql, *_ID_OF_QUOTE.args({"quote_id": quote_id})
        )
        return found

    async def pending_order_of(self, mailbox_id: str) -> PendingOrder | None:
        args = _PENDING_ORDER_OF.args({"mailbox_id": mailbox_id})
        record = await self._db.fetchrow(_PENDING_ORDER_OF.sql, *args)
        if record is None:
            return None
        return PendingOrder(
            record["order_id"], Principal(Role(record["owner_role"]), record["owner_id"])
        )

    async def release_mailboxes(self, order_id: str) -> None:
        await self._db.execute(_RELEASE.sql, *_RELEASE.args({"order_id": order_id}))

    async def debit_credit(self, partner_id: str, cents: int) -> int | None:
        values = {"partner_id": partner_id, "cents": cents}
        balance = await self._db.fetchval(_DEBIT.sql, *_DEBIT.args(values))
        return None if balance is None else int(balance)

    async def record_credit_movement(self, values: dict[str, Any]) -> bool:
        statement = _insert_movement(tuple(values))
        status = await self._db.execute(statement.sql, *statement.args(values))
        return bool(status == "INSERT 0 1")

    async def credit_of(self, partner_id: str) -> int | None:
        args = _CREDIT_OF.args({"partner_id": partner_id})
        balance = await self._db.fetchval(_CREDIT_OF.sql, *args)
        return None if balance is None else int(balance)


def _new_order_values(
    order: Order, idempotency_key: str | None, request_hash: str
) -> dict[str, Any]:
    values = order_to_values(order)
    return values | {"idempotency_key": idempotency_key, "request_hash": request_hash}


def _first_not_held(wanted: Sequence[str], held: Sequence[str]) -> str | None:
    """The first mailbox (in locking order) another unpaid order holds; None: all held."""
    taken = set(held)
    return next((mailbox_id for mailbox_id in wanted if mailbox_id not in taken), None)
