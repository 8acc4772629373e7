"""A partner's statement: its credit, its low-credit threshold, and the ledger behind it."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.partner import CreditMovement, Partner
from app.services.errors import ResourceNotFound
from app.services.unit_of_work import UnitOfWorkProtocol


@dataclass(frozen=True, slots=True)
class Statement:
    partner: Partner
    movements: list[CreditMovement]  # newest first
    next_before_id: int | None  # where the next page starts (None: this is the last)


async def credit_statement(
    uow: UnitOfWorkProtocol, partner_id: str, limit: int, before_id: int | None = None
) -> Statement:
    async with uow:
        partner = await uow.partners.get(partner_id)
        if partner is None:
            raise ResourceNotFound("partner", partner_id)
        # One line more than asked says whether there is a next page.
        found = await uow.partners.credit_movements(partner_id, limit + 1, before_id)
    page = found[:limit]
    return Statement(partner, page, page[-1].id if len(found) > limit else None)


async def whole_ledger(
    uow: UnitOfWorkProtocol, partner_id: str, page: int = 1000
) -> tuple[Partner, list[CreditMovement]]:
    """Every line of the ledger, oldest first (a statement to download), read in one
    transaction so the lines and the balance agree."""
    newest_first: list[CreditMovement] = []
    async with uow:
        partner = await uow.partners.get(partner_id)
        if partner is None:
            raise ResourceNotFound("partner", partner_id)
        before: int | None = None
        while True:
            found = await uow.partners.credit_movements(partner_id, page, before)
            newest_first += found
            if len(found) < page:
                break
            before = found[-1].id
    return partner, newest_first[::-1]
