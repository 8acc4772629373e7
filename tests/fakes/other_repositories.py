"""In-memory outbox, idempotency claims, accounts, holders, partners, quotes, catalog."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from app.db.catalog_repository import PriceListInForce, PublishedPriceList
from app.domain.access import Principal
from app.domain.account import Account, HolderVersion
from app.domain.catalog import PriceList
from app.domain.holder_record import HolderOnFile, HolderOwner, HolderRecord, holder_on_file
from app.domain.idempotency_identity import IdempotencyClaim, IdempotencyIdentity
from app.domain.mailbox import MailboxStatus
from app.domain.outgoing_message import OutgoingMessage
from app.domain.partner import CreditMovement, Partner, PartnerProfile
from app.domain.quote_record import QuoteRecord, QuoteToOrder
from app.domain.renewal_mode import TACIT_LEAD_DAYS, TACIT_RENEWED, RenewalMode, attempt_milestone
from app.domain.saved_payment_method import SavedPaymentMethod
from tests.fakes.tables import (
    IdempotencyRecord,
    OutboxMessage,
    Sequences,
    StoredPriceList,
    Tables,
)


class FakeOutbox:
    def __init__(self, tables: Tables, sequences: Sequences) -> None:
        self._messages = tables.outbox
        self._sequences = sequences

    async def add(self, kind: str, dedupe_key: str, payload: dict[str, Any], now: datetime) -> None:
        if dedupe_key not in self._messages:  # queued once per dedupe key
            message_id = self._sequences.next_outbox_id()
            self._messages[dedupe_key] = OutboxMessage(message_id, kind, dedupe_key, payload, now)

    async def add_many(self, messages: Sequence[OutgoingMessage], now: datetime) -> None:
        for message in messages:
            await self.add(*message, now)

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
        due = sorted(
            (
                m
                for m in self._messages.values()
                if m.delivered_at is None and m.available_at <= now
            ),
            key=lambda m: m.id,
        )[:limit]
        for message in due:
            message.available_at = now + lease
            message.attempts += 1
        return [replace(m) for m in due]

    async def delivered(self, message_id: int, now: datetime) -> None:
        for message in self._messages.values():
            if message.id == message_id:
                message.delivered_at = now

    async def failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        for message in self._messages.values():
            if message.id == message_id:
                message.available_at, message.last_error = retry_at, error[:500]

    async def backlog(self) -> int:
        return sum(1 for m in self._messages.values() if m.delivered_at is None)


def _claim(
    records: dict[IdempotencyIdentity, IdempotencyRecord],
    identity: IdempotencyIdentity,
    fingerprint: str,
    now: datetime,
) -> IdempotencyRecord | None:
    """Insert-or-ignore on the identity: None when this unit of work now owns it."""
    earlier = records.get(identity)
    if earlier is None:
        records[identity] = IdempotencyRecord(fingerprint, now)
        return None
    return replace(earlier)


class FakeIdempotencyClaims:
    def __init__(self, tables: Tables, outbox: FakeOutbox) -> None:
        self._records = tables.idempotency
        self._outbox = outbox

    async def claim(
        self, identity: IdempotencyIdentity, fingerprint: str, now: datetime
    ) -> IdempotencyRecord | None:
        return _claim(self._records, identity, fingerprint, now)

    async def record_answer(
        self, identity: IdempotencyIdentity, status_code: int, body: dict[str, Any]
    ) -> None:
        record = self._records.get(identity)
        if record is not None:
            record.status_code, record.body = status_code, body

    async def record_answer_queueing(
        self,
        identity: IdempotencyIdentity,
        status_code: int,
        body: dict[str, Any],
        messages: Sequence[OutgoingMessage],
        now: datetime,
    ) -> None:
        await self._outbox.add_many(messages, now)
        await self.record_answer(identity, status_code, body)


class FakeAccounts:
    def __init__(self, tables: Tables) -> None:
        self._accounts = tables.accounts

    async def get(self, account_id: str, *, for_update: bool = False) -> Account | None:  # noqa: ARG002
        account = self._accounts.get(account_id)
        return None if account is None else replace(account)

    async def language_of(self, account_id: str) -> str | None:
        account = self._accounts.get(account_id)
        return None if account is None else account.language

    async def exists(self, account_id: str) -> bool:
        return account_id in self._accounts

    async def add(self, account: Account) -> bool:
        if account.id in self._accounts:
            return False
        self._accounts[account.id] = replace(account)
        return True

    async def replace(self, account: Account) -> None:
        if account.id in self._accounts:
            self._accounts[account.id] = replace(account)


class FakeHolders:
    """Records on file: a mailbox's own (tables.mailbox_records) or its account's."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def on_file(self, mailbox_ids: Sequence[str]) -> dict[str, HolderOnFile | None]:
        found: dict[str, HolderOnFile | None] = {}
        for mailbox_id in mailbox_ids:
            mailbox = self._tables.mailboxes.get(mailbox_id)
            account = None if mailbox is None else self._tables.accounts.get(mailbox.account_id)
            if mailbox is not None and account is not None:  # the SQL joins the account
                own = self._tables.mailbox_records.get(mailbox_id)
                found[mailbox_id] = holder_on_file(own, account.holder)
        return found

    async def mailbox_owner(self, mailbox_id: str) -> tuple[str, HolderRecord | None] | None:
        mailbox = self._tables.mailboxes.get(mailbox_id)
        if mailbox is None:
            return None
        return mailbox.account_id, self._tables.mailbox_records.get(mailbox_id)

    async def owners(self, mailbox_ids: Sequence[str]) -> dict[str, HolderOwner]:
        found: dict[str, HolderOwner] = {}
        for mailbox_id in mailbox_ids:
            mailbox = self._tables.mailboxes.get(mailbox_id)
            account = None if mailbox is None else self._tables.accounts.get(mailbox.account_id)
            if mailbox is not None and account is not None:  # the SQL joins the account
                own = self._tables.mailbox_records.get(mailbox_id)
                found[mailbox_id] = HolderOwner(mailbox.account_id, own, account.holder)
        return found

    async def replace_account_record(
        self, account_id: str, record: HolderRecord, by: str, now: datetime
    ) -> bool:
        account = self._tables.accounts.get(account_id)
        if account is None or account.holder == record:
            return False
        self._keep(account_id, None, account.holder, by, now)
        self._tables.accounts[account_id] = replace(account, holder=record)
        return True

    async def replace_mailbox_record(
        self, mailbox_id: str, record: HolderRecord | None, by: str, now: datetime
    ) -> bool:
        mailbox = self._tables.mailboxes.get(mailbox_id)
        previous = self._tables.mailbox_records.get(mailbox_id)
        if mailbox is None or previous == record:
            return False
        self._keep(mailbox.account_id, mailbox_id, previous, by, now)
        if record is None:
            del self._tables.mailbox_records[mailbox_id]
        else:
            self._tables.mailbox_records[mailbox_id] = record
        return True

    def record_version(
        self, account_id: str, previous: HolderRecord | None, by: str, now: datetime
    ) -> None:
        self._keep(account_id, None, previous, by, now)

    async def history(self, account_id: str, limit: int) -> list[HolderVersion]:
        found = [v for owner, v in self._tables.holder_versions if owner == account_id]
        return list(reversed(found))[:limit]  # kept in time order: newest first is last first

    def _keep(
        self,
        account_id: str,
        mailbox_id: str | None,
        previous: HolderRecord | None,
        by: str,
        now: datetime,
    ) -> None:
        if previous is not None:  # nothing was on file: nothing is lost
            version = HolderVersion(mailbox_id, previous, now, by)
            self._tables.holder_versions.append((account_id, version))


class FakePartners:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def save_profile(self, profile: PartnerProfile, by: str, now: datetime) -> bool:
        current = self._tables.partners.get(profile.id)
        credit = 0 if current is None else current.credit_cents  # the credit is never written here
        self._tables.partners[profile.id] = Partner(profile, credit, by, now)
        return current is None

    async def exists(self, partner_id: str) -> bool:
        return partner_id in self._tables.partners

    async def get(self, partner_id: str) -> Partner | None:
        return self._tables.partners.get(partner_id)

    async def credit_movements(
        self, partner_id: str, limit: int, before_id: int | None = None
    ) -> list[CreditMovement]:
        ledger = self._tables.credit_movements.get(partner_id, [])
        newest_first = sorted(ledger, key=lambda m: m.id, reverse=True)
        return [m for m in newest_first if before_id is None or m.id < before_id][:limit]


class FakeQuotes:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables
        self._quotes = tables.quotes

    async def get_visible(self, principal: Principal, quote_id: str) -> QuoteRecord | None:
        record = self._quotes.get(quote_id)
        return record if record is not None and record.visible_to(principal) else None

    async def to_order(
        self, principal: Principal, quote_id: str, *, language_of: str | None, with_holders: bool
    ) -> QuoteToOrder | None:
        record = await self.get_visible(principal, quote_id)
        if record is None:
            return None
        language = None
        if language_of is not None:
            language = await FakeAccounts(self._tables).language_of(language_of)
        holders = None
        if with_holders:
            mailbox_ids = sorted(item.mailbox_id for item in record.quote.items)
            holders = await FakeHolders(self._tables).on_file(mailbox_ids)
        return QuoteToOrder(record, language, holders)

    async def to_order_claiming(
        self,
        claim: IdempotencyClaim,
        principal: Principal,
        quote_id: str,
        *,
        language_of: str | None,
        with_holders: bool,
    ) -> tuple[IdempotencyRecord | None, QuoteToOrder | None]:
        earlier = _claim(self._tables.idempotency, claim.identity, claim.fingerprint, claim.now)
        if earlier is not None:
            return earlier, None
        found = await self.to_order(
            principal, quote_id, language_of=language_of, with_holders=with_holders
        )
        return None, found

    async def add(self, record: QuoteRecord, idempotency_key: str | None) -> bool:
        # Only the sweeps add quotes through a unit of work, and without a key (quotes
        # with one go through the quote store, app/db/quote_store.py).
        if idempotency_key is not None:
            raise NotImplementedError("the fake keeps no quote idempotency keys")
        if record.id in self._quotes:
            return False
        self._quotes[record.id] = record
        return True


class FakeCatalog:
    def __init__(self, tables: Tables) -> None:
        self._lists = tables.price_lists

    async def in_force(self, moment: datetime) -> PriceListInForce | None:
        started = [s.price_list for s in self._lists.values() if s.price_list.valid_from <= moment]
        current = [p for p in started if p.valid_until is None or moment < p.valid_until]
        if not current:
            return None
        chosen = max(current, key=lambda p: p.valid_from)
        later = [s.price_list.valid_from for s in self._lists.values()]
        following = [when for when in later if when > moment]
        return PriceListInForce(chosen, min(following) if following else None)

    async def id_in_force(self, moment: datetime) -> str | None:
        found = await self.in_force(moment)
        return None if found is None else found.price_list.id

    async def published(self) -> list[PublishedPriceList]:
        summaries = [_summary(s) for s in self._lists.values()]
        return sorted(summaries, key=lambda s: s.valid_from, reverse=True)

    async def summary(self, price_list_id: str) -> PublishedPriceList | None:
        stored = self._lists.get(price_list_id)
        return None if stored is None else _summary(stored)

    async def get(self, price_list_id: str, *, for_update: bool = False) -> PriceList | None:  # noqa: ARG002
        stored = self._lists.get(price_list_id)
        return None if stored is None else stored.price_list

    async def add(
        self,
        price_list: PriceList,
        published_by: str | None = None,
        published_at: datetime | None = None,
    ) -> bool:
        if price_list.id in self._lists:
            return False
        self._lists[price_list.id] = StoredPriceList(price_list, published_by, published_at)
        return True

    async def replace(
        self, price_list: PriceList, published_by: str, published_at: datetime
    ) -> None:
        self._lists[price_list.id] = StoredPriceList(price_list, published_by, published_at)


def _summary(stored: StoredPriceList) -> PublishedPriceList:
    p = stored.price_list
    return PublishedPriceList(
        p.id, p.valid_from, p.valid_until, stored.published_by, stored.published_at
    )


class FakeMilestones:
    def __init__(self, tables: Tables) -> None:
        self._reached = tables.milestones

    async def claim(self, mailbox_id: str, expires_on: date, milestone: str, now: datetime) -> bool:
        key = (mailbox_id, expires_on, milestone)
        if key in self._reached:
            return False
        self._reached[key] = now
        return True

    async def reached(self, mailbox_id: str, expires_on: date) -> dict[str, datetime]:
        return {
            milestone: at
            for (mid, expiry, milestone), at in self._reached.items()
            if (mid, expiry) == (mailbox_id, expires_on)
        }

    async def count(self, milestone: str) -> int:
        return sum(1 for (_, _, reached) in self._reached if reached == milestone)


class FakeRenewalModes:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def of(self, partner_id: str, mailbox_ids: Sequence[str]) -> dict[str, RenewalMode]:
        modes = self._tables.renewal_modes
        return {
            mailbox_id: modes[mailbox_id][1]
            for mailbox_id in mailbox_ids
            if mailbox_id in modes and modes[mailbox_id][0] == partner_id
        }

    async def put(self, mailbox_id: str, partner_id: str, mode: RenewalMode) -> None:
        self._tables.renewal_modes[mailbox_id] = (partner_id, mode)

    async def due_tacit(self, today: date, limit: int) -> list[str]:
        done = (TACIT_RENEWED, attempt_milestone(today))
        due = [
            mailbox
            for mailbox in self._tables.mailboxes.values()
            if (set_by := self._tables.renewal_modes.get(mailbox.id)) is not None
            and set_by[0] == mailbox.partner_id
            and set_by[1].tacit
            and today <= mailbox.expires_on <= today + timedelta(days=TACIT_LEAD_DAYS)
            and mailbox.status in (MailboxStatus.ACTIVE, MailboxStatus.EXPIRED)
            and not any(
                (mailbox.id, mailbox.expires_on, name) in self._tables.milestones for name in done
            )
        ]
        due.sort(key=lambda m: (m.expires_on, m.id))
        return [m.id for m in due[:limit]]


class FakeSavedMethods:
    """UNIQUE (account, provider, method reference), newest first."""

    def __init__(self, tables: Tables) -> None:
        self._methods = tables.saved_methods

    async def add(self, method: SavedPaymentMethod) -> bool:
        identity = (method.account_id, method.provider, method.method_ref)
        taken = {(m.account_id, m.provider, m.method_ref) for m in self._methods.values()}
        if identity in taken:
            return False
        self._methods[method.id] = method
        return True

    async def of_account(self, account_id: str) -> list[SavedPaymentMethod]:
        found = [m for m in self._methods.values() if m.account_id == account_id]
        return sorted(found, key=lambda m: (m.created_at, m.id), reverse=True)

    async def remove(self, account_id: str, method_id: str) -> bool:
        method = self._methods.get(method_id)
        if method is None or method.account_id != account_id:
            return False
        del self._methods[method_id]
        return True
