"""Mailboxes, always read through what the principal may see."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.holder_repository import HolderRepository
from app.db.mappers import MAILBOX_COLUMNS, mailbox_from_row, mailbox_to_values
from app.db.models import MailboxMilestoneRow, MailboxRow, OrderRow, PendingRenewalRow
from app.db.outbox_repository import OutboxRepository
from app.db.visibility import mailboxes_visible_to
from app.domain.access import PendingOrder, Principal, Role
from app.domain.errors import MailboxAddressTaken
from app.domain.fulfilment_steps import FulfilmentLocks
from app.domain.mailbox import GRACE_DAYS, Mailbox, MailboxStatus
from app.domain.order_items import MailboxChange
from app.domain.outgoing_message import OutgoingMessage


class MailboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def visible_by_ids(self, principal: Principal, ids: Sequence[str]) -> dict[str, Mailbox]:
        """The mailboxes among `ids` that `principal` may see, in one query."""
        # Plain rows, not ORM entities: this is every quote's hot path.
        stmt = select(*MAILBOX_COLUMNS).where(
            MailboxRow.id.in_(ids), mailboxes_visible_to(principal)
        )
        rows = (await self._session.execute(stmt)).all()
        return {row.id: mailbox_from_row(row) for row in rows}

    async def pending_orders(self, ids: Sequence[str]) -> dict[str, PendingOrder]:
        """The unpaid renewal order of each mailbox that has one (rule 3), with its owner."""
        stmt = (
            select(
                PendingRenewalRow.mailbox_id,
                PendingRenewalRow.order_id,
                OrderRow.owner_role,
                OrderRow.owner_id,
            )
            .join(OrderRow, OrderRow.id == PendingRenewalRow.order_id)
            .where(PendingRenewalRow.mailbox_id.in_(ids))
        )
        return {
            row.mailbox_id: PendingOrder(
                row.order_id, Principal(Role(row.owner_role), row.owner_id)
            )
            for row in (await self._session.execute(stmt)).all()
        }

    async def get(self, mailbox_id: str) -> Mailbox | None:
        row = await self._session.get(MailboxRow, mailbox_id, populate_existing=True)
        return None if row is None else mailbox_from_row(row)

    async def get_visible(self, principal: Principal, mailbox_id: str) -> Mailbox | None:
        found = await self.visible_by_ids(principal, [mailbox_id])
        return found.get(mailbox_id)

    async def list_visible(
        self,
        principal: Principal,
        today: date,
        limit: int,
        status: MailboxStatus | None = None,
        expiring_before: date | None = None,
        after: tuple[date, str] | None = None,
    ) -> list[Mailbox]:
        """A page ordered by (expiry, id), which never changes under a cursor."""
        stmt = select(MailboxRow).where(mailboxes_visible_to(principal))
        if status is not None:
            stmt = stmt.where(_has_effective_status(status, today))
        if expiring_before is not None:
            stmt = stmt.where(MailboxRow.expires_on < expiring_before)
        if after is not None:
            stmt = stmt.where(
                or_(
                    MailboxRow.expires_on > after[0],
                    and_(MailboxRow.expires_on == after[0], MailboxRow.id > after[1]),
                )
            )
        stmt = stmt.order_by(MailboxRow.expires_on, MailboxRow.id).limit(limit)
        return [mailbox_from_row(row) for row in (await self._session.scalars(stmt)).all()]

    async def save(
        self, mailbox: Mailbox, now: datetime, *, with_auto_renewal: bool = True
    ) -> bool:
        """Create or update the mirror of `mailbox`; True when it was new.

        Insert-or-ignore then update: two concurrent first writes of one id can't both
        insert. An update never moves the expiry backwards (a platform record older than
        a renewal we applied must not undo it) and, unless `with_auto_renewal`, keeps
        this service's automatic-renewal setting. A duplicate address raises
        MailboxAddressTaken.
        """
        values = mailbox_to_values(mailbox, now)
        try:
            return await self._insert_or_update(mailbox, values, with_auto_renewal)
        except IntegrityError as exc:
            # PostgreSQL names the constraint, SQLite the column.
            if "uq_mailboxes_address" in str(exc.orig) or "mailboxes.address" in str(exc.orig):
                raise MailboxAddressTaken(mailbox.address) from exc
            raise

    async def _insert_or_update(
        self, mailbox: Mailbox, values: dict[str, Any], with_auto_renewal: bool
    ) -> bool:
        # Any conflict is ignored, not only the id's: of two concurrent first writes of
        # one mailbox, the second may trip the address index first, and it is an update.
        inserted = await self._session.execute(
            insert_or_ignore(self._session, MailboxRow.__table__),  # type: ignore[arg-type]
            values,
        )
        if inserted.rowcount:  # type: ignore[attr-defined]
            return True
        changes: dict[str, Any] = {k: v for k, v in values.items() if k != "id"}
        if not with_auto_renewal:
            del changes["auto_renewal"], changes["auto_renewal_years"]
        changes["expires_on"] = case(
            (MailboxRow.expires_on > mailbox.expires_on, MailboxRow.expires_on),
            else_=mailbox.expires_on,
        )
        updated = await self._session.execute(
            update(MailboxRow).where(MailboxRow.id == mailbox.id).values(changes)
        )
        if not updated.rowcount:  # type: ignore[attr-defined]
            raise MailboxAddressTaken(mailbox.address)  # no such id: the address was the conflict
        return False

    async def lock_for_renewal(self, ids: Sequence[str]) -> dict[str, Mailbox]:
        """The mailboxes among `ids`, locked in one query in id order (two orders locking
        the same mailboxes can't deadlock); a mailbox no longer mirrored is absent."""
        stmt = (
            select(MailboxRow)
            .where(MailboxRow.id.in_(sorted(ids)))
            .order_by(MailboxRow.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {row.id: mailbox_from_row(row) for row in (await self._session.scalars(stmt))}

    async def lock_for_fulfilment(
        self,
        order_id: str,  # noqa: ARG002 (the lean repository reads the order's refunds)
        ids: Sequence[str],
        *,
        owners: bool,
    ) -> FulfilmentLocks:
        """What a payment's fulfilment of the (locked) order `order_id` locks and reads
        first: its mailboxes (lock_for_renewal), then, if asked, their holders on file
        with their accounts locked (Holders.owners). The lean repository does it in one
        statement and also says whether a refund waits; here one must look."""
        mailboxes = await self.lock_for_renewal(ids)
        found = await HolderRepository(self._session).owners(ids) if owners else None
        return FulfilmentLocks(mailboxes, found, refunds_may_wait=True)

    async def apply_renewals(self, changes: Sequence[MailboxChange], now: datetime) -> None:
        """Write what a fulfilment made of each (locked) mailbox: it is ACTIVE again."""
        for change in changes:
            await set_plan_and_space(
                self._session,
                change,
                now,
                expires_on=change.expires_on,
                auto_renewal=change.auto_renewal,
                auto_renewal_years=change.auto_renewal_years,
                status=MailboxStatus.ACTIVE.value,
            )

    async def renew_for_order(
        self,
        order_id: str,
        changes: Sequence[MailboxChange],
        told: Sequence[OutgoingMessage],
        now: datetime,
    ) -> None:
        """An order's fulfilment in its (locked) mailboxes: each renewed as its change
        says (apply_renewals), what it had scheduled dropped unless the change schedules
        a downgrade itself (PlanChanges.cancel), the order's holds released
        (Orders.release_mailboxes) and `told` queued (Outbox.add_many). The lean
        repository does it all in one statement."""
        # Imported here: both import this module.
        from app.db.order_repository import OrderRepository
        from app.db.plan_change_repository import PlanChangeRepository

        await self.apply_renewals(changes, now)
        await PlanChangeRepository(self._session).cancel(unscheduled(changes))
        await OrderRepository(self._session).release_mailboxes(order_id)
        await OutboxRepository(self._session).add_many(told, now)

    async def set_auto_renewal(
        self, principal: Principal, mailbox_id: str, enabled: bool, years: int | None, now: datetime
    ) -> Mailbox | None:
        """Switch automatic renewal of a visible mailbox; None when it isn't visible."""
        stmt = (
            select(MailboxRow)
            .where(MailboxRow.id == mailbox_id, mailboxes_visible_to(principal))
            .with_for_update()
        )
        row = await self._session.scalar(stmt)
        if row is None:
            return None
        row.auto_renewal = enabled
        if years is not None:
            row.auto_renewal_years = years
        row.updated_at = now
        await self._session.flush()
        return mailbox_from_row(row)

    async def auto_renewing_without(
        self, first: date, last: date, milestone: str, limit: int
    ) -> list[Mailbox]:
        """Mailboxes with automatic renewal on, expiring between `first` and `last`
        (inclusive), neither deleted nor suspended, that haven't reached `milestone` for
        their expiry: the automatic renewal's work of the day, soonest expiry first."""
        reached = (
            select(MailboxMilestoneRow.mailbox_id)
            .where(
                MailboxMilestoneRow.mailbox_id == MailboxRow.id,
                MailboxMilestoneRow.expires_on == MailboxRow.expires_on,
                MailboxMilestoneRow.milestone == milestone,
            )
            .exists()
        )
        stmt = (
            select(MailboxRow)
            .where(
                MailboxRow.auto_renewal.is_(True),
                MailboxRow.expires_on.between(first, last),
                MailboxRow.status.in_(("ACTIVE", "EXPIRED")),
                ~reached,
            )
            .order_by(MailboxRow.expires_on, MailboxRow.id)
            .limit(limit)
        )
        return [mailbox_from_row(row) for row in await self._session.scalars(stmt)]


def _has_effective_status(status: MailboxStatus, today: date) -> ColumnElement[bool]:
    """SQL for `effective_status(mailbox, today) == status` (see app.domain.mailbox)."""
    grace_start = today - timedelta(days=GRACE_DAYS)
    in_grace_window = MailboxRow.expires_on >= grace_start
    if status is MailboxStatus.DELETED:
        return or_(MailboxRow.status == "DELETED", MailboxRow.expires_on < grace_start)
    if status is MailboxStatus.SUSPENDED:
        return and_(MailboxRow.status == "SUSPENDED", in_grace_window)
    if status is MailboxStatus.EXPIRED:
        return and_(
            MailboxRow.status.in_(("ACTIVE", "EXPIRED")),
            in_grace_window,
            or_(MailboxRow.expires_on < today, MailboxRow.status == "EXPIRED"),
        )
    return and_(MailboxRow.status == "ACTIVE", MailboxRow.expires_on >= today)


def unscheduled(changes: Sequence[MailboxChange]) -> list[str]:
    """The mailboxes whose change takes effect now: what they had scheduled is dropped."""
    return [change.mailbox_id for change in changes if change.scheduled is None]


class PlanAndSpace(Protocol):
    """What a mailbox becomes: a renewal's change, or a downgrade whose day has come."""

    @property
    def mailbox_id(self) -> str: ...
    @property
    def plan_code(self) -> str: ...
    @property
    def extra_mailbox_gb(self) -> int: ...
    @property
    def extra_archive_gb(self) -> int: ...
    @property
    def deletes_archive(self) -> bool: ...


async def set_plan_and_space(
    session: AsyncSession, change: PlanAndSpace, now: datetime, **more: Any
) -> None:
    """Give the mailbox its plan and extra space (its archive emptied where the change
    deletes it), with `more` columns set in the same statement."""
    values: dict[str, Any] = {
        "plan_code": change.plan_code,
        "extra_mailbox_gb": change.extra_mailbox_gb,
        "extra_archive_gb": change.extra_archive_gb,
        "updated_at": now,
        **more,
    }
    if change.deletes_archive:
        values["used_archive_mb"] = 0
    await session.execute(
        update(MailboxRow)
        .where(MailboxRow.id == change.mailbox_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )
