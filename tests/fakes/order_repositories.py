"""In-memory orders, mailboxes and payment events: the payment path's repositories.

Every read hands out a copy and every write stores one, as rows do: a use case that
changes an object it loaded changes nothing until it saves it (and commits).
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from dataclasses import fields, replace
from datetime import date, datetime
from typing import Any, Protocol

from app.domain.access import PendingOrder, Principal, Role
from app.domain.fulfilment_steps import FulfilmentLocks, Renewal
from app.domain.mailbox import Mailbox, MailboxStatus, effective_status
from app.domain.order import OrderStatus, sequence_of
from app.domain.order_aggregate import Order
from app.domain.order_items import MailboxChange
from app.domain.outgoing_message import OutgoingMessage
from app.domain.partner import CreditMovement
from app.domain.stored_payment_event import StoredPaymentEvent
from app.services.unit_of_work import Outbox
from tests.fakes.other_repositories import FakeHolders
from tests.fakes.tables import Sequences, StoredOrder, Tables


def mailbox_visible_to(principal: Principal, mailbox: Mailbox) -> bool:
    """app.db.visibility's rule for mailboxes, in memory."""
    if principal.role is Role.STAFF:
        return True
    if principal.role is Role.PARTNER:
        return mailbox.partner_id == principal.subject
    return mailbox.account_id == principal.subject


class FakeOutage(ConnectionResetError):
    """What FakeDatabase.outage() makes an order read raise."""


class Outages(Protocol):
    order_reads_failing: int


class FakeOrders:
    def __init__(self, tables: Tables, sequences: Sequences, outages: Outages) -> None:
        self._tables = tables
        self._sequences = sequences
        self._outages = outages

    def _read(self) -> None:
        if self._outages.order_reads_failing > 0:
            self._outages.order_reads_failing -= 1
            raise FakeOutage("the connection to the fake database dropped")

    async def add(self, order: Order, idempotency_key: str | None, request_hash: str) -> int | None:
        for stored in self._tables.orders.values():  # the unique keys of the orders table
            same_key = idempotency_key is not None and (
                (stored.order.owner, stored.idempotency_key) == (order.owner, idempotency_key)
            )
            if same_key or stored.order.quote_id == order.quote_id:
                return None
        kept = deepcopy(order)
        kept.seq = self._sequences.next_order_seq()
        self._tables.orders[order.id] = StoredOrder(kept, idempotency_key, request_hash)
        return kept.seq

    async def add_holding_mailboxes(
        self, order: Order, idempotency_key: str | None, request_hash: str
    ) -> tuple[int | None, str | None]:
        seq = await self.add(order, idempotency_key, request_hash)
        if seq is None:
            return None, None
        return seq, await self.hold_mailboxes(order.id, order.mailbox_ids)

    async def add_holding_and_locking(
        self, order: Order, idempotency_key: str | None, request_hash: str
    ) -> tuple[int | None, str | None, dict[str, Mailbox]]:
        seq, taken = await self.add_holding_mailboxes(order, idempotency_key, request_hash)
        if seq is None or taken is not None:
            return seq, taken, {}
        return seq, None, await FakeMailboxes(self._tables).lock_for_renewal(order.mailbox_ids)

    async def load(self, order_id: str, *, lock: bool = False) -> Order | None:  # noqa: ARG002
        self._read()
        stored = self._tables.orders.get(order_id)
        return None if stored is None else deepcopy(stored.order)

    async def by_number(self, reference: str, *, lock: bool = False) -> Order | None:  # noqa: ARG002
        seq = sequence_of(reference)
        if seq is None:
            return await self.load(reference)
        self._read()
        found = [s.order for s in self._tables.orders.values() if s.order.seq == seq]
        return deepcopy(found[0]) if found else None

    async def save(self, order: Order) -> None:
        stored = self._tables.orders.get(order.id)
        if stored is not None:  # an UPDATE of no row changes nothing
            stored.order = deepcopy(order)

    async def id_of_quote(self, quote_id: str) -> str | None:
        found = [s.order.id for s in self._tables.orders.values() if s.order.quote_id == quote_id]
        return found[0] if found else None

    async def list_visible(
        self, principal: Principal, limit: int, before: tuple[datetime, int] | None
    ) -> list[Order]:
        visible = [
            s.order
            for s in self._tables.orders.values()
            if s.order.visible_to(principal)
            and (before is None or (s.order.created_at, s.order.seq) < before)
        ]
        visible.sort(key=lambda o: (o.created_at, o.seq), reverse=True)
        return deepcopy(visible[:limit])

    async def hold_mailboxes(self, order_id: str, mailbox_ids: Sequence[str]) -> str | None:
        for mailbox_id in sorted(mailbox_ids):
            if mailbox_id in self._tables.pending_renewals:
                return mailbox_id
            self._tables.pending_renewals[mailbox_id] = order_id
        return None

    async def pending_order_of(self, mailbox_id: str) -> PendingOrder | None:
        order_id = self._tables.pending_renewals.get(mailbox_id)
        if order_id is None:
            return None
        return PendingOrder(order_id, self._tables.orders[order_id].order.owner)

    async def release_mailboxes(self, order_id: str) -> None:
        pending = self._tables.pending_renewals
        for mailbox_id in [m for m, o in pending.items() if o == order_id]:
            del pending[mailbox_id]

    async def unpaid_past_grace(self, grace_ended_before: date, limit: int) -> list[Order]:
        expired_ids = {
            order_id
            for mailbox_id, order_id in self._tables.pending_renewals.items()
            if self._tables.mailboxes[mailbox_id].expires_on < grace_ended_before
        }
        found = [
            s.order
            for s in self._tables.orders.values()
            if s.order.id in expired_ids and s.order.status is OrderStatus.AWAITING_PAYMENT
        ]
        return deepcopy(sorted(found, key=lambda o: o.seq)[:limit])

    async def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for stored in self._tables.orders.values():
            status = stored.order.status.value
            counts[status] = counts.get(status, 0) + 1
        return counts

    async def debit_credit(self, partner_id: str, cents: int) -> int | None:
        partner = self._tables.partners.get(partner_id)
        if partner is None or partner.credit_cents < cents:
            return None
        self._tables.partners[partner_id] = replace(
            partner, credit_cents=partner.credit_cents - cents
        )
        return partner.credit_cents - cents

    async def record_credit_movement(self, values: dict[str, Any]) -> bool:
        movement = CreditMovement(
            self._sequences.next_credit_movement_id(),
            values["kind"],
            values["amount_cents"],
            values["balance_after_cents"],
            values.get("order_id"),
            values["created_at"],
        )
        self._tables.credit_movements.setdefault(values["partner_id"], []).append(movement)
        return True

    async def credit_of(self, partner_id: str) -> int | None:
        partner = self._tables.partners.get(partner_id)
        return None if partner is None else partner.credit_cents

    async def top_up_credit(self, partner_id: str, cents: int, ceiling_cents: int) -> int | None:
        partner = self._tables.partners.get(partner_id)
        if partner is None or partner.credit_cents > ceiling_cents - cents:
            return None
        self._tables.partners[partner_id] = replace(
            partner, credit_cents=partner.credit_cents + cents
        )
        return partner.credit_cents + cents


_EVENT_FIELDS = tuple(f.name for f in fields(StoredPaymentEvent) if f.name != "id")


class FakePaymentEvents:
    def __init__(
        self,
        tables: Tables,
        sequences: Sequences,
        orders: FakeOrders,
        mailboxes: FakeMailboxes | None = None,
    ) -> None:
        self._events = tables.payment_events
        self._sequences = sequences
        self._payloads = tables.payment_event_payloads
        self._orders = orders
        self._mailboxes = mailboxes  # a save with a renewal renews there

    async def add(self, values: dict[str, Any]) -> StoredPaymentEvent | None:
        """Insert-or-ignore on UNIQUE (provider, event_id)."""
        identity = (values["provider"], values["event_id"])
        if any((e.provider, e.event_id) == identity for e in self._events.values()):
            return None
        event = StoredPaymentEvent(
            self._sequences.next_payment_event_id(),
            **{name: values[name] for name in _EVENT_FIELDS if name in values},
        )
        self._events[event.id] = deepcopy(event)
        self._payloads[event.id] = deepcopy(values.get("payload") or {})
        return event

    async def add_locking_order(
        self, values: dict[str, Any], order_ref: str | None
    ) -> tuple[StoredPaymentEvent | None, Order | None]:
        stored = await self.add(values)
        if stored is None or order_ref is None:
            return stored, None
        return stored, await self._orders.by_number(order_ref, lock=True)

    async def save(
        self,
        event: StoredPaymentEvent,
        with_order: Order | None = None,
        renewal: Renewal | None = None,
    ) -> None:
        if renewal is not None:
            assert self._mailboxes is not None, "built without the unit of work's mailboxes"
            await self._mailboxes.renew_for_order(
                renewal.order_id, renewal.changes, renewal.told, renewal.now
            )
        if with_order is not None:
            await self._orders.save(with_order)
        if event.id in self._events:
            self._events[event.id] = deepcopy(event)

    async def claim_unprocessed(self, event_row_id: int) -> StoredPaymentEvent | None:
        event = self._events.get(event_row_id)
        return None if event is None or event.processed_at is not None else deepcopy(event)

    async def waiting_for_payment(self, order_id: str) -> list[StoredPaymentEvent]:
        return [
            deepcopy(e)
            for _, e in sorted(self._events.items())
            if e.order_id == order_id and e.outcome == "wait"
        ]

    async def reconcile_waiting(self, order_id: str, reason: str) -> None:
        for event in self._events.values():
            if event.order_id == order_id and event.outcome == "wait":
                event.outcome, event.reason = "reconcile", reason

    async def locked(self, event_row_id: int) -> StoredPaymentEvent | None:
        event = self._events.get(event_row_id)
        return None if event is None else deepcopy(event)

    async def due_for_retry(
        self, now: datetime, received_before: datetime, limit: int
    ) -> list[int]:
        def due(e: StoredPaymentEvent) -> bool:
            if e.processed_at is not None:
                return False
            if e.next_attempt_at is None:
                return e.received_at < received_before
            return e.next_attempt_at <= now

        found = [e for e in self._events.values() if due(e)]
        found.sort(key=lambda e: (e.next_attempt_at or e.received_at, e.id))
        return [e.id for e in found[:limit]]

    async def reconciliation(self, limit: int, after_id: int | None) -> list[StoredPaymentEvent]:
        found = [
            deepcopy(e)
            for event_id, e in sorted(self._events.items())
            if e.outcome == "reconcile"
            and e.resolved_at is None
            and (after_id is None or event_id > after_id)
        ]
        return found[:limit]

    async def payload_of(self, event_row_id: int) -> dict[str, Any] | None:
        payload = self._payloads.get(event_row_id)
        return None if payload is None else deepcopy(payload)


class FakeMailboxes:
    def __init__(self, tables: Tables, outbox: Outbox | None = None) -> None:
        self._tables = tables
        self._outbox = outbox  # renew_for_order queues there

    async def pending_orders(self, ids: Sequence[str]) -> dict[str, PendingOrder]:
        pending = self._tables.pending_renewals
        return {
            mailbox_id: PendingOrder(
                pending[mailbox_id], self._tables.orders[pending[mailbox_id]].order.owner
            )
            for mailbox_id in ids
            if mailbox_id in pending
        }

    async def get(self, mailbox_id: str) -> Mailbox | None:
        return self._tables.mailboxes.get(mailbox_id)  # frozen: no copy needed

    async def get_visible(self, principal: Principal, mailbox_id: str) -> Mailbox | None:
        mailbox = self._tables.mailboxes.get(mailbox_id)
        return mailbox if mailbox and mailbox_visible_to(principal, mailbox) else None

    async def list_visible(
        self,
        principal: Principal,
        today: date,
        limit: int,
        status: MailboxStatus | None = None,
        expiring_before: date | None = None,
        after: tuple[date, str] | None = None,
    ) -> list[Mailbox]:
        found = sorted(
            (
                m
                for m in self._tables.mailboxes.values()
                if mailbox_visible_to(principal, m)
                and (status is None or effective_status(m, today) is status)
                and (expiring_before is None or m.expires_on < expiring_before)
                and (after is None or (m.expires_on, m.id) > after)
            ),
            key=lambda m: (m.expires_on, m.id),
        )
        return found[:limit]

    async def save(
        self,
        mailbox: Mailbox,
        now: datetime,  # noqa: ARG002
        *,
        with_auto_renewal: bool = True,
    ) -> bool:
        current = self._tables.mailboxes.get(mailbox.id)
        if current is None:
            self._tables.mailboxes[mailbox.id] = mailbox
            return True
        kept = replace(mailbox, expires_on=max(current.expires_on, mailbox.expires_on))
        if not with_auto_renewal:
            kept = replace(
                kept,
                auto_renewal=current.auto_renewal,
                auto_renewal_years=current.auto_renewal_years,
            )
        self._tables.mailboxes[mailbox.id] = kept
        return False

    async def lock_for_renewal(self, ids: Sequence[str]) -> dict[str, Mailbox]:
        return {i: self._tables.mailboxes[i] for i in sorted(ids) if i in self._tables.mailboxes}

    async def lock_for_fulfilment(
        self, order_id: str, ids: Sequence[str], *, owners: bool
    ) -> FulfilmentLocks:
        waiting = any(
            e.order_id == order_id and e.outcome == "wait"
            for e in self._tables.payment_events.values()
        )
        return FulfilmentLocks(
            await self.lock_for_renewal(ids),
            await FakeHolders(self._tables).owners(ids) if owners else None,
            refunds_may_wait=waiting,
        )

    async def apply_renewals(self, changes: Sequence[MailboxChange], now: datetime) -> None:  # noqa: ARG002
        for change in changes:
            mailbox = self._tables.mailboxes.get(change.mailbox_id)
            if mailbox is None:
                continue
            self._tables.mailboxes[change.mailbox_id] = replace(
                mailbox,
                expires_on=change.expires_on,
                plan_code=change.plan_code,
                extra_mailbox_gb=change.extra_mailbox_gb,
                extra_archive_gb=change.extra_archive_gb,
                auto_renewal=change.auto_renewal,
                auto_renewal_years=change.auto_renewal_years,
                status=MailboxStatus.ACTIVE,
                used_archive_mb=0 if change.deletes_archive else mailbox.used_archive_mb,
            )

    async def renew_for_order(
        self,
        order_id: str,
        changes: Sequence[MailboxChange],
        told: Sequence[OutgoingMessage],
        now: datetime,
    ) -> None:
        assert self._outbox is not None, "built without the unit of work's outbox"
        await self._outbox.add_many(told, now)
        await self.apply_renewals(changes, now)
        for change in changes:
            if change.scheduled is None:
                self._tables.scheduled_changes.pop(change.mailbox_id, None)
        pending = self._tables.pending_renewals
        for mailbox_id in [m for m, o in pending.items() if o == order_id]:
            del pending[mailbox_id]

    async def set_auto_renewal(
        self,
        principal: Principal,
        mailbox_id: str,
        enabled: bool,
        years: int | None,
        now: datetime,  # noqa: ARG002
    ) -> Mailbox | None:
        mailbox = await self.get_visible(principal, mailbox_id)
        if mailbox is None:
            return None
        changed = replace(
            mailbox,
            auto_renewal=enabled,
            auto_renewal_years=mailbox.auto_renewal_years if years is None else years,
        )
        self._tables.mailboxes[mailbox_id] = changed
        return changed

    async def auto_renewing_without(
        self, first: date, last: date, milestone: str, limit: int
    ) -> list[Mailbox]:
        reached = self._tables.milestones
        found = [
            m
            for m in self._tables.mailboxes.values()
            if m.auto_renewal
            and first <= m.expires_on <= last
            and m.status in (MailboxStatus.ACTIVE, MailboxStatus.EXPIRED)
            and (m.id, m.expires_on, milestone) not in reached
        ]
        return sorted(found, key=lambda m: (m.expires_on, m.id))[:limit]
