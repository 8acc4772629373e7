"""Orders, the pending-renewal guard, and the partner credit they draw on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.mailbox_repository import MailboxRepository
from app.db.models import (
    CreditMovementRow,
    MailboxRow,
    OrderRow,
    PartnerRow,
    PendingRenewalRow,
)
from app.db.order_documents import order_from_row, order_to_values, state_values
from app.db.visibility import orders_visible_to
from app.domain.access import PendingOrder, Principal, Role
from app.domain.mailbox import Mailbox
from app.domain.order import sequence_of
from app.domain.order_aggregate import Order


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, order: Order, idempotency_key: str | None, request_hash: str) -> int | None:
        """Store a new order; its sequence number, or None when a unique key already
        exists (the same Idempotency-Key, or an order for the same quote)."""
        values = order_to_values(order)
        values |= {"idempotency_key": idempotency_key, "request_hash": request_hash}
        stmt = insert_or_ignore(self._session, OrderRow.__table__)  # type: ignore[arg-type]
        result = await self._session.execute(stmt.returning(OrderRow.seq), values)
        seq = result.scalar_one_or_none()
        return None if seq is None else int(seq)

    async def add_holding_mailboxes(
        self, order: Order, idempotency_key: str | None, request_hash: str
    ) -> tuple[int | None, str | None]:
        """Store a new order and hold its mailboxes: (its sequence number, None).

        (None, None) when a unique key already exists (as `add`); (seq, mailbox) when
        that mailbox already has an unpaid order (as `hold_mailboxes`: the caller rolls
        back). The lean repository does both in one statement.
        """
        seq = await self.add(order, idempotency_key, request_hash)
        if seq is None:
            return None, None
        return seq, await self.hold_mailboxes(order.id, order.mailbox_ids)

    async def add_holding_and_locking(
        self, order: Order, idempotency_key: str | None, request_hash: str
    ) -> tuple[int | None, str | None, dict[str, Mailbox]]:
        """`add_holding_mailboxes`, and once every mailbox is held, the mailboxes locked
        for renewal (as Mailboxes.lock_for_renewal): {} when they were not all held.
        The lean repository does it all in one statement."""
        seq, taken = await self.add_holding_mailboxes(order, idempotency_key, request_hash)
        if seq is None or taken is not None:
            return seq, taken, {}
        return seq, None, await MailboxRepository(self._session).lock_for_renewal(order.mailbox_ids)

    async def load(self, order_id: str, *, lock: bool = False) -> Order | None:
        """The order; `lock`: held until the commit, so its state changes one at a time."""
        return await self._one(OrderRow.id == order_id, lock)

    async def by_number(self, reference: str, *, lock: bool = False) -> Order | None:
        """The order a payment names: by its human number (bank transfers) or its id."""
        seq = sequence_of(reference)
        if seq is not None:
            return await self._one(OrderRow.seq == seq, lock)
        return await self._one(OrderRow.id == reference, lock)

    async def _one(self, where: ColumnElement[bool], lock: bool) -> Order | None:
        stmt = select(OrderRow).where(where)
        if lock:
            stmt = stmt.with_for_update()
        row = await self._session.scalar(stmt.execution_options(populate_existing=True))
        return None if row is None else order_from_row(row)

    async def save(self, order: Order) -> None:
        """Write what the order's methods changed (the ordered document never changes)."""
        await self._session.execute(
            update(OrderRow)
            .where(OrderRow.id == order.id)
            .values(state_values(order))
            .execution_options(synchronize_session=False)
        )

    async def id_of_quote(self, quote_id: str) -> str | None:
        """The order placed from `quote_id`, if any."""
        return await self._session.scalar(select(OrderRow.id).where(OrderRow.quote_id == quote_id))

    async def list_visible(
        self, principal: Principal, limit: int, before: tuple[datetime, int] | None
    ) -> list[Order]:
        """Newest first, by (created_at, seq): stable under a cursor."""
        stmt = select(OrderRow).where(orders_visible_to(principal))
        if before is not None:
            stmt = stmt.where(
                or_(
                    OrderRow.created_at < before[0],
                    and_(OrderRow.created_at == before[0], OrderRow.seq < before[1]),
                )
            )
        stmt = stmt.order_by(OrderRow.created_at.desc(), OrderRow.seq.desc()).limit(limit)
        return [order_from_row(row) for row in (await self._session.scalars(stmt)).all()]

    async def hold_mailboxes(self, order_id: str, mailbox_ids: Sequence[str]) -> str | None:
        """Mark the mailboxes as awaiting this order's payment.

        Returns the first mailbox that already has an unpaid order (nothing is held
        then: the caller rolls back), or None.
        """
        stmt = insert_or_ignore(
            self._session,
            PendingRenewalRow.__table__,  # type: ignore[arg-type]
            on="mailbox_id",
        )
        for mailbox_id in sorted(mailbox_ids):  # a fixed order: no deadlock between orders
            result = await self._session.execute(
                stmt, {"mailbox_id": mailbox_id, "order_id": order_id}
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return mailbox_id
        return None

    async def pending_order_of(self, mailbox_id: str) -> PendingOrder | None:
        row = (
            await self._session.execute(
                select(PendingRenewalRow.order_id, OrderRow.owner_role, OrderRow.owner_id)
                .join(OrderRow, OrderRow.id == PendingRenewalRow.order_id)
                .where(PendingRenewalRow.mailbox_id == mailbox_id)
            )
        ).one_or_none()
        if row is None:
            return None
        return PendingOrder(row.order_id, Principal(Role(row.owner_role), row.owner_id))

    async def release_mailboxes(self, order_id: str) -> None:
        await self._session.execute(
            delete(PendingRenewalRow).where(PendingRenewalRow.order_id == order_id)
        )

    async def unpaid_past_grace(self, grace_ended_before: date, limit: int) -> list[Order]:
        """Unpaid orders holding a mailbox whose grace period has ended (locked)."""
        stmt = (
            select(OrderRow)
            .join(PendingRenewalRow, PendingRenewalRow.order_id == OrderRow.id)
            .join(MailboxRow, MailboxRow.id == PendingRenewalRow.mailbox_id)
            .where(
                OrderRow.status == "AWAITING_PAYMENT",
                MailboxRow.expires_on < grace_ended_before,
            )
            .order_by(OrderRow.seq)
            .limit(limit)
            .with_for_update(of=OrderRow, skip_locked=True)
        )
        return [order_from_row(row) for row in (await self._session.scalars(stmt)).unique().all()]

    async def count_by_status(self) -> dict[str, int]:
        stmt = select(OrderRow.status, func.count()).group_by(OrderRow.status)
        return {status: int(n) for status, n in (await self._session.execute(stmt)).all()}

    async def debit_credit(self, partner_id: str, cents: int) -> int | None:
        """Take `cents` from the partner's credit, atomically: the balance after it, or
        None when the credit is short."""
        result = await self._session.execute(
            update(PartnerRow)
            .where(PartnerRow.id == partner_id, PartnerRow.credit_cents >= cents)
            .values(credit_cents=PartnerRow.credit_cents - cents)
            .returning(PartnerRow.credit_cents)
        )
        return result.scalar_one_or_none()

    async def record_credit_movement(self, values: dict[str, Any]) -> bool:
        """Write a ledger line; False when the partner already used its Idempotency-Key."""
        stmt = insert_or_ignore(self._session, CreditMovementRow.__table__)  # type: ignore[arg-type]
        result = await self._session.execute(stmt, values)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def credit_of(self, partner_id: str) -> int | None:
        return await self._session.scalar(
            select(PartnerRow.credit_cents).where(PartnerRow.id == partner_id)
        )

    async def top_up_credit(self, partner_id: str, cents: int, ceiling_cents: int) -> int | None:
        """Add `cents`, atomically: the balance after it, or None when the partner is
        unknown or the balance would pass `ceiling_cents`."""
        result = await self._session.execute(
            update(PartnerRow)
            .where(PartnerRow.id == partner_id, PartnerRow.credit_cents <= ceiling_cents - cents)
            .values(credit_cents=PartnerRow.credit_cents + cents)
            .returning(PartnerRow.credit_cents)
        )
        return result.scalar_one_or_none()
