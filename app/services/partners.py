"""Setting up a partner (reseller): staff create it or change its profile."""

from __future__ import annotations

from datetime import datetime

from app.domain.partner import Partner, PartnerProfile
from app.services.unit_of_work import UnitOfWorkProtocol


async def put_partner(
    uow: UnitOfWorkProtocol, profile: PartnerProfile, by: str, now: datetime
) -> tuple[Partner, bool]:
    """Create the partner (with no credit) or replace its profile; True when it is new."""
    async with uow:
        created = await uow.partners.save_profile(profile, by, now)
        partner = await uow.partners.get(profile.id)
        await uow.commit()
    assert partner is not None
    return partner, created
