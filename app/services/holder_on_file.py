"""The holder on file in orders: filled in when an order omits it, recorded when an order
that gave new data is fulfilled (the replaced record kept in holder_versions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from app.domain.holder_record import (
    HolderOnFile,
    HolderOwner,
    common_holder_on_file,
    order_holder,
)
from app.domain.order import OrderRequest
from app.domain.order_aggregate import Order
from app.services.unit_of_work import UnitOfWorkProtocol


async def with_holder_on_file(
    uow: UnitOfWorkProtocol,
    request: OrderRequest,
    mailbox_ids: Iterable[str],
    read_already: Mapping[str, HolderOnFile | None] | None = None,
) -> OrderRequest:
    """`request` with its holder and billing complete: what it gave, else what is on file
    for its mailboxes (one holder for all of them, or HolderRequired); `read_already`:
    their holders on file, read with the quote."""
    found = read_already
    if request.holder is None and found is None:
        found = await uow.holders.on_file(sorted(mailbox_ids))
    return with_holder_read(request, found or {})


def with_holder_read(
    request: OrderRequest, on_file: Mapping[str, HolderOnFile | None]
) -> OrderRequest:
    """with_holder_on_file, given the holders on file of the request's mailboxes (read
    with the quote; unused when the request gives a holder)."""
    common = common_holder_on_file(on_file) if request.holder is None else None
    record, from_file = order_holder(request.holder, request.billing, common)
    return replace(
        request, holder=record.holder, billing=record.billing, holder_from_file=from_file
    )


async def record_order_holder(
    uow: UnitOfWorkProtocol,
    order: Order,
    now: datetime,
    owners: Mapping[str, HolderOwner] | None = None,
) -> None:
    """At fulfilment, the holder the order gave becomes the record: its mailbox's own
    where the mailbox has one, else its account's (each account once). `owners`: its
    mailboxes' Holders.owners, when read already."""
    if order.holder_from_file:
        return  # nothing new was typed; a record edited since must not be undone
    record = order.holder
    replaced_by = f"order:{order.id}"
    # One read for all, the accounts NOT locked; a write only where the record changes
    # (usually none: a renewal confirms the holder on file). A write locks its row and
    # compares again, so a record changed since the read is still kept as a version; a
    # payment that changes nothing takes no account lock, and one account's payments
    # don't queue behind each other.
    if owners is None:
        owners = await uow.holders.owners(order.mailbox_ids)
    stale_mailboxes, stale_accounts = holder_records_to_replace(order, owners)
    for mailbox_id in stale_mailboxes:  # the mailbox rows are locked already
        await uow.holders.replace_mailbox_record(mailbox_id, record, replaced_by, now)
    # In id order: two payments that write the same accounts cannot deadlock on them.
    for account_id in sorted(stale_accounts):
        await uow.holders.replace_account_record(account_id, record, replaced_by, now)


def holder_records_to_replace(
    order: Order, owners: Mapping[str, HolderOwner]
) -> tuple[list[str], set[str]]:
    """The mailboxes (their own record) and accounts whose record on file is not the
    holder `order` gave (record_order_holder replaces them): usually none."""
    if order.holder_from_file:
        return [], set()
    record = order.holder
    stale_mailboxes: list[str] = []
    stale_accounts: set[str] = set()
    for mailbox_id in order.mailbox_ids:
        owner = owners.get(mailbox_id)
        if owner is None:  # the mirror vanished
            continue
        if owner.own is not None:
            if owner.own != record:
                stale_mailboxes.append(mailbox_id)
        elif owner.account != record:
            stale_accounts.add(owner.account_id)
    return stale_mailboxes, stale_accounts
