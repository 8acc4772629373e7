"""Partners: their profile as staff set it, their credit and its ledger (read side)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.models import CreditMovementRow, PartnerRow
from app.domain.partner import CreditMovement, Partner, PartnerProfile


class PartnerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save_profile(self, profile: PartnerProfile, by: str, now: datetime) -> bool:
        """Create the partner (credit 0) or update its profile; True when it is new.

        The database decides between two concurrent creators: one inserts, the other
        updates what it inserted. The credit is never written here.
        """
        values = {
            "name": profile.name,
            "email": profile.email,
            "language": profile.language,
            "low_credit_threshold_cents": profile.low_credit_threshold_cents,
            "updated_by": by,
            "updated_at": now,
        }
        stmt = insert_or_ignore(self._session, PartnerRow.__table__)  # type: ignore[arg-type]
        inserted = await self._session.execute(
            stmt, {"id": profile.id, "credit_cents": 0, **values}
        )
        if inserted.rowcount:  # type: ignore[attr-defined]
            return True
        await self._session.execute(
            update(PartnerRow).where(PartnerRow.id == profile.id).values(values)
        )
        return False

    async def exists(self, partner_id: str) -> bool:
        found = await self._session.scalar(select(PartnerRow.id).where(PartnerRow.id == partner_id))
        return found is not None

    async def get(self, partner_id: str) -> Partner | None:
        row = await self._session.get(PartnerRow, partner_id, populate_existing=True)
        if row is None:
            return None
        profile = PartnerProfile(
            row.id, row.name, row.email or "", row.language, row.low_credit_threshold_cents
        )
        return Partner(profile, row.credit_cents, row.updated_by, row.updated_at)

    async def credit_movements(
        self, partner_id: str, limit: int, before_id: int | None = None
    ) -> list[CreditMovement]:
        """The ledger, newest first (by id: ids grow with time, and never tie)."""
        stmt = select(CreditMovementRow).where(CreditMovementRow.partner_id == partner_id)
        if before_id is not None:
            stmt = stmt.where(CreditMovementRow.id < before_id)
        rows = await self._session.scalars(stmt.order_by(CreditMovementRow.id.desc()).limit(limit))
        return [
            CreditMovement(
                r.id, r.kind, r.amount_cents, r.balance_after_cents, r.order_id, r.created_at
            )
            for r in rows
        ]
