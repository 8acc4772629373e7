"""The payment path's asyncpg repositories (payment events, mailboxes, outbox, plan
changes, holders, the order's holds, saved methods) read and write exactly what the
SQLAlchemy ones do: the same steps run in a lean and in an ORM unit of work, each rolled
back, and their results compared."""

from __future__ import annotations

import dataclasses
from copy import deepcopy
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from app.container import Container
from app.db.lean_unit_of_work import LeanUnitOfWork
from app.db.unit_of_work import UnitOfWork
from app.domain.billing import Billing
from app.domain.holder_record import HolderOwner, HolderRecord
from app.domain.order import OrderStatus
from app.domain.order_items import MailboxChange
from app.domain.outgoing_message import OutgoingMessage
from app.domain.plan_change import ScheduledChange
from app.domain.saved_payment_method import SavedPaymentMethod
from app.settings import UnitOfWorkKind
from tests.api.helpers import put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for
from tests.conftest import CUSTOMER, START
from tests.unit.builders import PERSON


def _event(event_id: str, order_ref: str | None, **more: Any) -> dict[str, Any]:
    return {
        "provider": "generic",
        "event_id": event_id,
        "kind": "payment.succeeded",
        "order_ref": order_ref,
        "amount_cents": 1208,
        "currency": "EUR",
        "occurred_at": START,
        "received_at": START,
        "payload": {"data": {"order": order_ref, "note": "caffè"}},
        **more,
    }


def _change(mailbox_id: str, *, deletes_archive: bool) -> MailboxChange:
    return MailboxChange(
        mailbox_id=mailbox_id,
        address=f"{mailbox_id}@pec.example.it",
        previous_expiry=date(2026, 12, 25),
        expires_on=date(2027, 12, 25),
        plan_code="PRO",
        extra_mailbox_gb=2,
        extra_archive_gb=3,
        deletes_archive=deletes_archive,
        auto_renewal=True,
        auto_renewal_years=2,
    )


_RECORD = HolderRecord(PERSON, Billing())
_OWN_RECORD = HolderRecord(replace(PERSON, name="Anna Bianchi"), Billing())


def _scheduled(mailbox_id: str, order_id: str) -> ScheduledChange:
    return ScheduledChange(mailbox_id, order_id, date(2027, 1, 1), "STANDARD", 0, 0, False)


def _without_row_id(found: Any) -> Any:
    """Row ids come from sequences, which a rollback doesn't give back."""
    return None if found is None else replace(found, id=0)


async def _steps(uow: UnitOfWork, order_id: str, number: str) -> dict[str, Any]:
    """Every hot method, through `uow`'s repositories; what each returned or left."""
    seen: dict[str, Any] = {}
    events = uow.payment_events
    stored, order = await events.add_locking_order(_event("evt-1", number), number)
    assert stored is not None
    assert order is not None
    seen["stored"], seen["order"] = _without_row_id(stored), deepcopy(order)
    seen["duplicate"] = await events.add_locking_order(_event("evt-1", number), number)
    by_id = await events.add_locking_order(_event("evt-2", order_id), order_id)
    seen["by id"] = (_without_row_id(by_id[0]), by_id[1])
    unknown = await events.add_locking_order(
        _event("evt-3", "PEC-2026-9999999"), "PEC-2026-9999999"
    )
    seen["unknown"] = (_without_row_id(unknown[0]), unknown[1])
    kept = await events.add(_event("evt-4", None, attempts=1, last_error="boom"))
    seen["kept"] = _without_row_id(kept)
    assert kept is not None
    seen["payloads"] = [await events.payload_of(e) for e in (stored.id, kept.id, -1)]

    # A card kept for automatic renewals, once per account and provider reference.
    card = SavedPaymentMethod("spm_1", "acc-1", "stripe", "card", "cus_1", "pm_1", order.id, START)
    seen["saved methods"] = [
        await uow.saved_methods.add(card),
        await uow.saved_methods.add(replace(card, id="spm_2")),
        await uow.saved_methods.of_account("acc-1"),
    ]

    seen["locked"] = await uow.mailboxes.lock_for_renewal(["mbx-b", "mbx-a", "mbx-none"])
    await uow.mailboxes.apply_renewals(
        [_change("mbx-a", deletes_archive=True), _change("mbx-b", deletes_archive=False)], START
    )
    seen["renewed"] = [await uow.mailboxes.get(m) for m in ("mbx-a", "mbx-b")]
    await uow.plan_changes.cancel(["mbx-a"])
    seen["scheduled"] = await uow.plan_changes.of(["mbx-a", "mbx-b"])

    # A fulfilment's renewal: mbx-a's schedule dropped, mbx-b's kept (its change is
    # scheduled itself), the order's hold on mbx-a released; then the holders on file.
    await uow.plan_changes.schedule(
        [_scheduled("mbx-a", order.id), _scheduled("mbx-b", order.id)], START
    )
    held = await uow.mailboxes.pending_orders(["mbx-a", "mbx-b"])
    downgrade = replace(
        _change("mbx-b", deletes_archive=False), scheduled=_scheduled("mbx-b", order.id)
    )
    told = [OutgoingMessage("mail_platform", "renewed-a", {"n": "à"})]
    await uow.mailboxes.renew_for_order(
        order.id, [_change("mbx-a", deletes_archive=False), downgrade], told, START
    )
    seen["renewed for the order"] = (
        held,
        await uow.mailboxes.pending_orders(["mbx-a", "mbx-b"]),
        await uow.plan_changes.of(["mbx-a", "mbx-b"]),
        [await uow.mailboxes.get(m) for m in ("mbx-a", "mbx-b")],
    )
    await uow.holders.replace_account_record("acc-1", _RECORD, "test", START)
    await uow.holders.replace_mailbox_record("mbx-b", _OWN_RECORD, "test", START)
    await uow.session.flush()  # those two are ORM changes, sent at the flush
    seen["owners"] = await uow.holders.owners(["mbx-b", "mbx-a", "mbx-none"])
    await uow.orders.release_mailboxes(order.id)

    await uow.outbox.add_many(
        [
            OutgoingMessage("mail_platform", "lean-1", {"n": 1}),
            OutgoingMessage("partner_webhook", "lean-2", {"n": [2, "è"]}),
            OutgoingMessage("mail_platform", "lean-1", {"n": "twice"}),  # queued once
        ],
        START,
    )
    await uow.outbox.add("email", "lean-3", {"n": 3}, START)
    claimed = await uow.outbox.claim_due(START, 10, timedelta(minutes=1))
    seen["outbox"] = [(m.kind, m.dedupe_key, m.payload, m.attempts) for m in claimed]

    refund = await events.add(_event("evt-5", number, kind="payment.refunded"))
    assert refund is not None
    refund.order_id, refund.outcome = order.id, "wait"
    await events.save(refund)
    seen["waiting"] = [_without_row_id(e) for e in await events.waiting_for_payment(order.id)]

    order.status = OrderStatus.PAID
    order.paid_at = START
    stored.settle("fulfil", None)
    stored.order_id = order.id
    stored.processed(START)
    await events.save(stored, with_order=order)
    seen["saved order"] = await uow.orders.load(order.id)
    seen["processed"] = await events.claim_unprocessed(stored.id)  # None: it is processed
    return seen


async def _run(db: Container, kind: UnitOfWorkKind, order_id: str, number: str) -> dict[str, Any]:
    settings = db.settings.model_copy(update={"unit_of_work": kind})
    uow = dataclasses.replace(db, settings=settings).unit_of_work()
    expected = LeanUnitOfWork if kind is UnitOfWorkKind.AUTO else UnitOfWork
    assert type(uow) is expected
    async with uow:
        return await _steps(uow, order_id, number)  # never committed: the next run starts equal


async def test_asyncpg_and_sqlalchemy_payment_repositories_agree(
    client: httpx.AsyncClient, db: Container
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the lean unit of work needs PostgreSQL")
    await put_mailbox(client, "mbx-a", used_archive_mb=700)
    await put_mailbox(client, "mbx-b", used_archive_mb=700)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-a"}])
    response = await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))
    assert response.status_code == 201, response.text
    order_id, number = response.json()["id"], response.json()["number"]

    lean = await _run(db, UnitOfWorkKind.AUTO, order_id, number)
    orm = await _run(db, UnitOfWorkKind.SQLALCHEMY, order_id, number)

    assert lean.keys() == orm.keys()
    for step in lean:
        assert lean[step] == orm[step], step
    assert lean["duplicate"] == (None, None)
    assert lean["unknown"][1] is None
    assert lean["by id"][1] == lean["order"]
    assert [m.used_archive_mb for m in lean["renewed"]] == [0, 700]
    assert ("mail_platform", "renewed-a", {"n": "à"}, 1) in lean["outbox"]
    queued = [key for _, key, _, _ in lean["outbox"] if key.startswith("lean-")]
    assert queued == ["lean-1", "lean-2", "lean-3"]
    assert lean["saved order"].status is OrderStatus.PAID
    assert lean["processed"] is None
    held, released, scheduled, _ = lean["renewed for the order"]
    assert set(held) == {"mbx-a"}
    assert released == {}
    assert set(scheduled) == {"mbx-b"}
    assert set(lean["owners"]) == {"mbx-a", "mbx-b"}
    assert lean["payloads"] == [_event("", number)["payload"], _event("", None)["payload"], None]
    assert lean["saved methods"][:2] == [True, False]
    owners = lean["owners"]
    assert owners.keys() == {"mbx-a", "mbx-b"}
    assert owners["mbx-a"] == HolderOwner("acc-1", None, _RECORD)
    assert owners["mbx-b"] == HolderOwner("acc-1", _OWN_RECORD, _RECORD)
