"""Use cases of mailboxes: list and show them with their renewability; mirror them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime

from app.domain.access import PendingOrder, Principal, Role, pending_order_seen_by
from app.domain.automatic_renewal import check_frequency
from app.domain.calendar import italian_date
from app.domain.catalog import PriceList
from app.domain.holder_record import HolderOnFile, HolderRecord, check_holder_record
from app.domain.issues import Issue
from app.domain.mailbox import Mailbox, MailboxStatus, effective_status
from app.domain.plan_change import ScheduledChange
from app.domain.quote import renewal_blockers
from app.domain.renewal_mode import DEFAULT_RENEWAL_MODE, RenewalMode
from app.services.catalog_cache import CatalogCache
from app.services.errors import (
    MailboxNotRenewable,
    ResourceNotFound,
    UnknownOwner,
)
from app.services.unit_of_work import UnitOfWorkProtocol


@dataclass(frozen=True, slots=True)
class MailboxView:
    """A mailbox as the frontend shows it, with what stands in the way of renewing."""

    mailbox: Mailbox
    status: MailboxStatus
    blockers: tuple[Issue, ...]
    holder_on_file: HolderOnFile | None = None  # to prefill the order's holder step
    renewal_mode: RenewalMode | None = None  # the managing partner's, shown to it only
    scheduled_change: ScheduledChange | None = None  # a paid downgrade waiting for its day

    @property
    def renewable(self) -> bool:
        return not self.blockers


@dataclass(frozen=True, slots=True)
class HolderChange:
    """A mirror's new holder for the mailbox (None: its account's again), and who sent it."""

    record: HolderRecord | None
    by: str  # "staff:<id>"


@dataclass(frozen=True, slots=True)
class MailboxPage:
    views: list[MailboxView]
    next_after: tuple[date, str] | None


async def list_mailboxes(
    uow: UnitOfWorkProtocol,
    catalog: CatalogCache,
    principal: Principal,
    now: datetime,
    limit: int,
    status: MailboxStatus | None = None,
    expiring_before: date | None = None,
    after: tuple[date, str] | None = None,
) -> MailboxPage:
    price_list = (await catalog.current()).price_list
    async with uow:
        # One row more than asked says whether there is a next page.
        found = await uow.mailboxes.list_visible(
            principal, italian_date(now), limit + 1, status, expiring_before, after
        )
        page = found[:limit]
        pending = await uow.mailboxes.pending_orders([m.id for m in page])
        on_file = await uow.holders.on_file([m.id for m in page])
        modes = await _renewal_modes(uow, principal, [m.id for m in page])
        scheduled = await uow.plan_changes.of([m.id for m in page])
    next_after = (page[-1].expires_on, page[-1].id) if len(found) > limit else None
    views = [
        replace(
            _view(m, price_list, now, principal, pending.get(m.id), on_file.get(m.id), scheduled),
            renewal_mode=modes.get(m.id),
        )
        for m in page
    ]
    return MailboxPage(views, next_after)


async def get_mailbox(
    uow: UnitOfWorkProtocol,
    catalog: CatalogCache,
    principal: Principal,
    mailbox_id: str,
    now: datetime,
) -> MailboxView:
    price_list = (await catalog.current()).price_list
    async with uow:
        mailbox = await uow.mailboxes.get_visible(principal, mailbox_id)
        if mailbox is None:
            raise ResourceNotFound("mailbox", mailbox_id)
        pending = await uow.mailboxes.pending_orders([mailbox_id])
        on_file = await uow.holders.on_file([mailbox_id])
        modes = await _renewal_modes(uow, principal, [mailbox_id])
        scheduled = await uow.plan_changes.of([mailbox_id])
    view = _view(
        mailbox,
        price_list,
        now,
        principal,
        pending.get(mailbox_id),
        on_file.get(mailbox_id),
        scheduled,
    )
    return replace(view, renewal_mode=modes.get(mailbox_id))


async def set_auto_renewal(
    uow: UnitOfWorkProtocol,
    catalog: CatalogCache,
    principal: Principal,
    mailbox_id: str,
    enabled: bool,
    years: int | None,
    now: datetime,
) -> MailboxView:
    """Turn automatic renewal on (every `years` years) or off; off unblocks a manual renewal."""
    price_list = (await catalog.current()).price_list
    async with uow:
        current = await uow.mailboxes.get_visible(principal, mailbox_id)
        if current is None:
            raise ResourceNotFound("mailbox", mailbox_id)
        status = effective_status(current, italian_date(now))
        if enabled and status in (MailboxStatus.DELETED, MailboxStatus.SUSPENDED):
            raise MailboxNotRenewable(status.value)
        if enabled:
            promotion = price_list.active_promotion(current.plan_code, italian_date(now))
            check_frequency(years or current.auto_renewal_years, promotion)
        mailbox = await uow.mailboxes.set_auto_renewal(principal, mailbox_id, enabled, years, now)
        assert mailbox is not None
        pending = await uow.mailboxes.pending_orders([mailbox_id])
        on_file = await uow.holders.on_file([mailbox_id])
        scheduled = await uow.plan_changes.of([mailbox_id])
        await uow.commit()
    return _view(
        mailbox,
        price_list,
        now,
        principal,
        pending.get(mailbox_id),
        on_file.get(mailbox_id),
        scheduled,
    )


async def mirror_mailbox(
    uow: UnitOfWorkProtocol,
    catalog: CatalogCache,
    mailbox: Mailbox,
    now: datetime,
    viewer: Principal,
    *,
    with_auto_renewal: bool = True,
    holder: HolderChange | None = None,
) -> tuple[MailboxView, bool]:
    """Create or update the mirror of a platform mailbox; True when it is new.

    `holder` None keeps the mailbox's own holder as it is: the platform doesn't know it.
    """
    price_list = (await catalog.current()).price_list
    if holder is not None and holder.record is not None:
        check_holder_record(holder.record)
    async with uow:
        if not await uow.accounts.exists(mailbox.account_id):
            raise UnknownOwner("account_id", mailbox.account_id)
        if mailbox.partner_id is not None and not await uow.partners.exists(mailbox.partner_id):
            raise UnknownOwner("partner_id", mailbox.partner_id)
        created = await uow.mailboxes.save(mailbox, now, with_auto_renewal=with_auto_renewal)
        if holder is not None:
            await uow.holders.replace_mailbox_record(mailbox.id, holder.record, holder.by, now)
        await uow.commit()
        pending = await uow.mailboxes.pending_orders([mailbox.id])
        stored = await uow.mailboxes.get(mailbox.id)  # what the update kept, not what was sent
        on_file = await uow.holders.on_file([mailbox.id])
        scheduled = await uow.plan_changes.of([mailbox.id])
    assert stored is not None
    view = _view(
        stored, price_list, now, viewer, pending.get(mailbox.id), on_file.get(mailbox.id), scheduled
    )
    return view, created


def _view(
    mailbox: Mailbox,
    price_list: PriceList,
    now: datetime,
    viewer: Principal,
    pending: PendingOrder | None,
    holder_on_file: HolderOnFile | None = None,
    scheduled: Mapping[str, ScheduledChange] | None = None,
) -> MailboxView:
    seen = None if pending is None else pending_order_seen_by(viewer, pending)
    blockers = renewal_blockers(mailbox, price_list, now, seen)
    status = effective_status(mailbox, italian_date(now))
    change = (scheduled or {}).get(mailbox.id)
    return MailboxView(mailbox, status, blockers, holder_on_file, scheduled_change=change)


async def _renewal_modes(
    uow: UnitOfWorkProtocol, viewer: Principal, mailbox_ids: list[str]
) -> dict[str, RenewalMode]:
    """A partner sees the renewal mode of each mailbox it manages (the default where it
    set none); other viewers see none."""
    if viewer.role is not Role.PARTNER:
        return {}
    found = await uow.renewal_modes.of(viewer.subject, mailbox_ids)
    return {mailbox_id: found.get(mailbox_id, DEFAULT_RENEWAL_MODE) for mailbox_id in mailbox_ids}
