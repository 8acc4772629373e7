"""The holder on file in orders: filled in when an order omits it, recorded when an order
that gave new data is fulfilled (the replaced record kept in holder_versions)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from app.db.holder_documents import record_from_documents
from app.db.unit_of_work import UnitOfWork
from app.domain.holder_record import common_holder_on_file, order_holder
from app.domain.order import OrderRequest


async def with_holder_on_file(
    uow: UnitOfWork, request: OrderRequest, mailbox_ids: Iterable[str]
) -> OrderRequest:
    """`request` with its holder and billing complete: what it gave, else what is on file
    for its mailboxes (one holder for all of them, or HolderRequired)."""
    on_file = None
    if request.holder is None:
        on_file = common_holder_on_file(await uow.holders.on_file(sorted(mailbox_ids)))
    record, from_file = order_holder(request.holder, request.billing, on_file)
    return replace(
        request, holder=record.holder, billing=record.billing, holder_from_file=from_file
    )


async def record_order_holder(
    uow: UnitOfWork, order_id: str, document: dict[str, Any], now: datetime
) -> None:
    """At fulfilment, the holder the order gave becomes the record: its mailbox's own
    where the mailbox has one, else its account's (each account once)."""
    if document.get("holder_from_file", False):
        return  # nothing new was typed; a record edited since must not be undone
    record = record_from_documents(document["holder"], document["billing"])
    if record is None:
        return
    replaced_by = f"order:{order_id}"
    accounts_done: set[str] = set()
    for mailbox_id in sorted({str(item["mailbox_id"]) for item in document["items"]}):
        owner = await uow.holders.mailbox_owner(mailbox_id)
        if owner is None:  # the mirror vanished
            continue
        account_id, own_record = owner
        if own_record is not None:
            await uow.holders.replace_mailbox_record(mailbox_id, record, replaced_by, now)
        elif account_id not in accounts_done:
            accounts_done.add(account_id)
            await uow.holders.replace_account_record(account_id, record, replaced_by, now)
