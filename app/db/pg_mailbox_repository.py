"""Mailboxes on the lean unit of work: a payment's locks and renewals in plain asyncpg.

The mailboxes an order renews are locked in one statement and renewed in one statement
(an UPDATE … FROM unnest of one array per column), however many there are; a fulfilment
also drops what they had scheduled, releases the order's holds and queues what the
platform and partners are told in that same statement (data-modifying CTEs:
renew_for_order). The
statements are built from the same table and column list (mappers.MAILBOX_COLUMNS) as
MailboxRepository and write what its set_plan_and_space writes; every other method is
the SQLAlchemy repository's, on the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Integer,
    String,
    any_,
    bindparam,
    case,
    column,
    delete,
    exists,
    func,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.asyncpg_rows import AttributeRow
from app.db.asyncpg_statements import CompiledStatement
from app.db.fixed_rows import fixed_rows
from app.db.holder_repository import owner_from_row
from app.db.mailbox_repository import MailboxRepository, unscheduled
from app.db.mappers import MAILBOX_COLUMNS, mailbox_from_row
from app.db.models import (
    AccountRow,
    MailboxRow,
    PaymentEventRow,
    PendingRenewalRow,
    ScheduledPlanChangeRow,
)
from app.db.pg_outbox_repository import QUEUED_COLUMNS, insert_messages, message_values
from app.domain.fulfilment_steps import FulfilmentLocks
from app.domain.mailbox import Mailbox, MailboxStatus
from app.domain.order_items import MailboxChange
from app.domain.outgoing_message import OutgoingMessage

_LOCK_FOR_RENEWAL = CompiledStatement(
    select(*MAILBOX_COLUMNS)
    .where(MailboxRow.id == any_(bindparam("ids", type_=postgresql.ARRAY(String))))
    .order_by(MailboxRow.id)  # a fixed order: two orders locking the same can't deadlock
    .with_for_update()
)


_REFUNDS_WAITING = "refunds_waiting"
_ACCOUNT_FOUND = "owner_account_id"  # NULL: no account row (OWNERS joins, so no owner)


@lru_cache(maxsize=2)
def _lock_for_fulfilment(owners: bool) -> CompiledStatement:
    """Lock_for_renewal's mailboxes, (`owners`) their holders on file as OWNERS reads them
    (the accounts not locked), and whether a refund of the order waits, in one statement:
    one row per mailbox (its columns and holders), or one row of NULLs but the flag."""
    ids = bindparam("ids", type_=postgresql.ARRAY(String))
    records = (MailboxRow.holder, MailboxRow.billing) if owners else ()
    locked = (
        select(*MAILBOX_COLUMNS, *records)
        .where(MailboxRow.id == any_(ids))
        .order_by(MailboxRow.id)
        .with_for_update()
        .cte("locked_mailboxes")
    )
    waiting = exists().where(
        PaymentEventRow.order_id == bindparam("order_id"), PaymentEventRow.outcome == "wait"
    )
    anchor = select(waiting.label(_REFUNDS_WAITING)).subquery("refunds")
    found: Any = locked
    columns: list[Any] = list(locked.c)
    if owners:
        accounts = select(
            AccountRow.id,
            AccountRow.holder.label("account_holder"),
            AccountRow.billing.label("account_billing"),
        ).cte("owner_accounts")
        found = locked.outerjoin(accounts, accounts.c.id == locked.c.account_id)
        columns += [
            accounts.c.id.label(_ACCOUNT_FOUND),
            accounts.c.account_holder,
            accounts.c.account_billing,
        ]
    return CompiledStatement(
        select(anchor.c[_REFUNDS_WAITING], *columns)
        .select_from(anchor.outerjoin(found, true()))
        .order_by(locked.c.id)
    )


# One array per column of the renewal, element i of each about the same mailbox.
_RENEWED = {
    "mailbox_id": String,
    "plan_code": String,
    "extra_mailbox_gb": Integer,
    "extra_archive_gb": Integer,
    "deletes_archive": Boolean,
    "expires_on": Date,
    "auto_renewal": Boolean,
    "auto_renewal_years": Integer,
}


def _renewal(guard: ColumnElement[bool] | None = None, rows: int | None = None) -> Any:
    """The renewal's UPDATE; with a `guard`, only where it holds and each mailbox is
    still the version read (`versions`, one per change), RETURNING the ids renewed.
    `rows`: built for that many changes (app/db/fixed_rows.py), else for any number."""
    arrays = {**_RENEWED, "versions": String} if guard is not None else _RENEWED
    if rows is not None:
        renewed = fixed_rows({name: kind() for name, kind in arrays.items()}, rows, "renewed")
    else:
        renewed = (
            func.unnest(
                *(bindparam(name, type_=postgresql.ARRAY(kind())) for name, kind in arrays.items())
            )
            .table_valued(*(column(name, kind()) for name, kind in arrays.items()))
            .render_derived(name="renewed")
        )
    where = [MailboxRow.id == renewed.c.mailbox_id]
    if guard is not None:
        where += [literal_column("mailboxes.xmin::text", String) == renewed.c.versions, guard]
    statement = (
        update(MailboxRow)
        .where(*where)
        .values(
            plan_code=renewed.c.plan_code,
            extra_mailbox_gb=renewed.c.extra_mailbox_gb,
            extra_archive_gb=renewed.c.extra_archive_gb,
            # As set_plan_and_space: the archive is emptied where the change deletes it.
            used_archive_mb=case((renewed.c.deletes_archive, 0), else_=MailboxRow.used_archive_mb),
            expires_on=renewed.c.expires_on,
            auto_renewal=renewed.c.auto_renewal,
            auto_renewal_years=renewed.c.auto_renewal_years,
            status=bindparam("renewed_status", type_=MailboxRow.__table__.c.status.type),
            updated_at=bindparam("renewed_at", type_=MailboxRow.__table__.c.updated_at.type),
        )
    )
    return statement if guard is None else statement.returning(MailboxRow.id)


def guarded_renewal(guard: ColumnElement[bool], rows: int) -> Any:
    """renew_for_order's UPDATE for a write without a transaction (app/db/
    pg_payment_in_one_write.py): where `guard` holds and each of the `rows` mailboxes is
    as read."""
    return _renewal(guard, rows)


_APPLY_RENEWALS = CompiledStatement(_renewal())
# renew_for_order: the renewal with PlanChanges.cancel's and Orders.release_mailboxes'
# DELETEs and Outbox.add_many's INSERT as CTEs (each on another table, so their order
# within the statement doesn't matter).
_UNSCHEDULE = delete(ScheduledPlanChangeRow).where(
    ScheduledPlanChangeRow.mailbox_id
    == any_(bindparam("unscheduled_ids", type_=postgresql.ARRAY(String)))
)
_RELEASE = delete(PendingRenewalRow).where(
    PendingRenewalRow.order_id == bindparam("released_order_id")
)


def _unschedule_fixed(rows: int) -> Any:
    """_UNSCHEDULE for `rows` changes (app/db/fixed_rows.py): `unscheduled_ids` holds one
    element per change, None where the change keeps its schedule (renewal_values)."""
    ids = fixed_rows({"unscheduled_ids": String()}, rows, "unscheduling")
    return delete(ScheduledPlanChangeRow).where(
        ScheduledPlanChangeRow.mailbox_id.in_(select(ids.c.unscheduled_ids))
    )


def with_renewal_ctes(statement: Any, messages: int, rows: int | None = None) -> Any:
    """`statement` with what renewing an order's mailboxes also does, as CTEs: their
    schedules dropped, the order's holds released, `messages` queued (renewal_values).
    `rows`: built for that many changes, as `_renewal`."""
    unschedule = _UNSCHEDULE if rows is None else _unschedule_fixed(rows)
    statement = statement.add_cte(unschedule.cte("unscheduled"))
    statement = statement.add_cte(_RELEASE.cte("released"))
    if messages:
        statement = statement.add_cte(insert_messages(messages, QUEUED_COLUMNS).cte("queued"))
    return statement


def with_renewal(statement: Any, messages: int) -> Any:
    """`statement` with an order's whole renewal (renew_for_order) as CTEs before it."""
    return with_renewal_ctes(statement.add_cte(_renewal().cte("renewed_mailboxes")), messages)


def renewal_values(
    order_id: str,
    changes: Sequence[MailboxChange],
    told: Sequence[OutgoingMessage],
    now: datetime,
) -> dict[str, Any]:
    """The values of with_renewal(…, len(told)) and of renew_for_order's statement."""
    values = _renewed_values(changes, now) | message_values(told, now)
    # One element per change (None: it keeps its schedule), as _unschedule_fixed reads it;
    # `= ANY` of _UNSCHEDULE matches no None.
    dropped = set(unscheduled(changes))
    ids = [change.mailbox_id if change.mailbox_id in dropped else None for change in changes]
    return values | {"unscheduled_ids": ids, "released_order_id": order_id}


def _renewed_values(changes: Sequence[MailboxChange], now: datetime) -> dict[str, Any]:
    """The values of _renewal(): one array per column, element i about change i."""
    values: dict[str, Any] = {
        name: [getattr(change, name) for change in changes] for name in _RENEWED
    }
    return values | {"renewed_status": MailboxStatus.ACTIVE.value, "renewed_at": now}


@lru_cache(maxsize=16)  # one per number of messages: a handful of mailboxes per order
def _renew_for_order(messages: int) -> CompiledStatement:
    return CompiledStatement(with_renewal_ctes(_renewal(), messages))


class LocksTaken:
    """Mailbox locks a statement took ahead, in this unit of work's transaction (a
    payment's event stored, its order and mailboxes locked at once), for
    lock_for_fulfilment to answer with instead of locking again: held until the commit,
    and read once locked, so they answer as a new lock would."""

    def __init__(self) -> None:
        self._by_order: dict[str, tuple[frozenset[str], FulfilmentLocks]] = {}

    def leave(self, order_id: str, ids: Sequence[str], locks: FulfilmentLocks) -> None:
        self._by_order[order_id] = (frozenset(ids), locks)

    def take(self, order_id: str, ids: Sequence[str], *, owners: bool) -> FulfilmentLocks | None:
        taken = self._by_order.pop(order_id, None)
        if taken is None or taken[0] != frozenset(ids):
            return None
        locks = taken[1]
        return locks if owners else FulfilmentLocks(locks.mailboxes, None, locks.refunds_may_wait)


class AsyncpgMailboxRepository(MailboxRepository):
    def __init__(
        self, session: AsyncSession, connection: Any, taken: LocksTaken | None = None
    ) -> None:
        super().__init__(session)
        self._db = connection  # the lean unit of work's asyncpg connection
        self._taken = LocksTaken() if taken is None else taken

    async def lock_for_renewal(self, ids: Sequence[str]) -> dict[str, Mailbox]:
        statement = _LOCK_FOR_RENEWAL
        records = await self._db.fetch(statement.sql, *statement.args({"ids": sorted(ids)}))
        mailboxes = (mailbox_from_row(SimpleNamespace(**statement.row(r))) for r in records)
        return {mailbox.id: mailbox for mailbox in mailboxes}

    async def lock_for_fulfilment(
        self, order_id: str, ids: Sequence[str], *, owners: bool
    ) -> FulfilmentLocks:
        taken = self._taken.take(order_id, ids, owners=owners)
        if taken is not None:
            return taken
        statement = _lock_for_fulfilment(owners)
        values = {"ids": sorted(ids), "order_id": order_id}
        records = await self._db.fetch(statement.sql, *statement.args(values))
        rows = [statement.row(record) for record in records if record["id"] is not None]
        mailboxes = {row["id"]: mailbox_from_row(SimpleNamespace(**row)) for row in rows}
        found = None
        if owners:
            joined = (row for row in rows if row[_ACCOUNT_FOUND] is not None)
            found = {row["id"]: owner_from_row(AttributeRow(row)) for row in joined}
        return FulfilmentLocks(mailboxes, found, refunds_may_wait=records[0][_REFUNDS_WAITING])

    async def apply_renewals(self, changes: Sequence[MailboxChange], now: datetime) -> None:
        if not changes:
            return
        statement = _APPLY_RENEWALS
        await self._db.execute(statement.sql, *statement.args(_renewed_values(changes, now)))

    async def renew_for_order(
        self,
        order_id: str,
        changes: Sequence[MailboxChange],
        told: Sequence[OutgoingMessage],
        now: datetime,
    ) -> None:
        if not changes:  # nothing renewed (an order always renews some): statement by statement
            await super().renew_for_order(order_id, changes, told, now)
            return
        values = renewal_values(order_id, changes, told, now)
        statement = _renew_for_order(len(told))
        await self._db.execute(statement.sql, *statement.args(values))
