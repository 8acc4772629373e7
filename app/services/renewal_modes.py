"""A partner reads and sets the renewal mode of a mailbox it manages (domain.md, Partners)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.access import Principal
from app.domain.calendar import italian_date
from app.domain.errors import InvalidRequest
from app.domain.mailbox import Mailbox, MailboxStatus, effective_status
from app.domain.renewal_mode import (
    DEFAULT_RENEWAL_MODE,
    RenewalMode,
    RenewalModeKind,
    years_errors,
)
from app.services.errors import MailboxNotRenewable, ResourceNotFound
from app.services.unit_of_work import UnitOfWorkProtocol


@dataclass(frozen=True, slots=True)
class MailboxRenewalMode:
    mailbox: Mailbox
    mode: RenewalMode


async def get_renewal_mode(
    uow: UnitOfWorkProtocol, partner: Principal, mailbox_id: str
) -> MailboxRenewalMode:
    """The mode `partner` set for its mailbox, or the default (`at_expiry`, 1 year)."""
    async with uow:
        mailbox = await _managed(uow, partner, mailbox_id)
        found = await uow.renewal_modes.of(partner.subject, [mailbox_id])
    return MailboxRenewalMode(mailbox, found.get(mailbox_id, DEFAULT_RENEWAL_MODE))


async def set_renewal_mode(
    uow: UnitOfWorkProtocol,
    partner: Principal,
    mailbox_id: str,
    mode: RenewalModeKind,
    years: int | None,
    now: datetime,
) -> MailboxRenewalMode:
    """Record the mode and years (None: unchanged). The years respect promotions as a
    quote does: 1–5, and 1–2 while the mailbox's plan is on promotion (422
    `frequency_not_allowed`); a deleted or suspended mailbox can't turn tacit (409)."""
    today = italian_date(now)
    async with uow:
        mailbox = await _managed(uow, partner, mailbox_id)
        current = (await uow.renewal_modes.of(partner.subject, [mailbox_id])).get(
            mailbox_id, DEFAULT_RENEWAL_MODE
        )
        chosen = current.years if years is None else years
        in_force = await uow.catalog.in_force(now)
        promotion = (
            None
            if in_force is None
            else in_force.price_list.active_promotion(mailbox.plan_code, today)
        )
        errors = years_errors(chosen, promotion)
        if errors:
            raise InvalidRequest(errors)
        status = effective_status(mailbox, today)
        if mode is RenewalModeKind.TACIT and status in (
            MailboxStatus.DELETED,
            MailboxStatus.SUSPENDED,
        ):
            raise MailboxNotRenewable(status.value)
        recorded = RenewalMode(mode, chosen, now)
        await uow.renewal_modes.put(mailbox_id, partner.subject, recorded)
        await uow.commit()
    return MailboxRenewalMode(mailbox, recorded)


async def _managed(uow: UnitOfWorkProtocol, partner: Principal, mailbox_id: str) -> Mailbox:
    mailbox = await uow.mailboxes.get_visible(partner, mailbox_id)
    if mailbox is None:  # not one it manages: as unknown as a mailbox that doesn't exist
        raise ResourceNotFound("mailbox", mailbox_id)
    return mailbox
