"""Quotes: inserted once, frozen, read back by id or by idempotency key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.account_repository import AccountRepository
from app.db.dialect import insert_or_ignore
from app.db.holder_repository import HolderRepository
from app.db.idempotency_repository import IdempotencyRepository
from app.db.models import IdempotencyRecordRow, QuoteRow
from app.db.quote_documents import quote_from_document, quote_to_document
from app.db.visibility import quotes_visible_to
from app.domain.access import Principal, Role
from app.domain.idempotency_identity import IdempotencyClaim
from app.domain.quote_record import QuoteRecord, QuoteToOrder

__all__ = ["QuoteRecord", "QuoteRepository"]  # QuoteRecord lives in the domain now


class QuoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: QuoteRecord, idempotency_key: str | None) -> bool:
        """Store `record`; False when the owner already used `idempotency_key`."""
        stmt = insert_or_ignore(self._session, QuoteRow.__table__)  # type: ignore[arg-type]
        result = await self._session.execute(stmt, quote_values(record, idempotency_key))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get_visible(self, principal: Principal, quote_id: str) -> QuoteRecord | None:
        """The quote if `principal` may see it: None also when it exists but isn't theirs."""
        stmt = select(*QUOTE_RECORD_COLUMNS).where(
            QuoteRow.id == quote_id, quotes_visible_to(principal)
        )
        row = (await self._session.execute(stmt)).first()
        return None if row is None else quote_record(row)

    async def to_order(
        self, principal: Principal, quote_id: str, *, language_of: str | None, with_holders: bool
    ) -> QuoteToOrder | None:
        """The visible quote, the language of account `language_of` (when given) and,
        `with_holders`, the holders on file of its mailboxes; None: no such quote."""
        record = await self.get_visible(principal, quote_id)
        if record is None:
            return None
        language = None
        if language_of is not None:
            language = await AccountRepository(self._session).language_of(language_of)
        holders = None
        if with_holders:
            mailbox_ids = sorted(item.mailbox_id for item in record.quote.items)
            holders = await HolderRepository(self._session).on_file(mailbox_ids)
        return QuoteToOrder(record, language, holders)

    async def to_order_claiming(
        self,
        claim: IdempotencyClaim,
        principal: Principal,
        quote_id: str,
        *,
        language_of: str | None,
        with_holders: bool,
    ) -> tuple[IdempotencyRecordRow | None, QuoteToOrder | None]:
        """An order's first step: `claim` made (IdempotencyRepository.claim: the earlier
        record when the key was used before, and then no quote), then to_order."""
        claims = IdempotencyRepository(self._session)
        earlier = await claims.claim(claim.identity, claim.fingerprint, claim.now)
        if earlier is not None:
            return earlier, None
        found = await self.to_order(
            principal, quote_id, language_of=language_of, with_holders=with_holders
        )
        return None, found

    async def by_idempotency_key(self, owner: Principal, key: str) -> QuoteRecord | None:
        stmt = select(*QUOTE_RECORD_COLUMNS).where(
            QuoteRow.owner_role == owner.role.value,
            QuoteRow.owner_id == owner.subject,
            QuoteRow.idempotency_key == key,
        )
        row = (await self._session.execute(stmt)).first()
        return None if row is None else quote_record(row)


def quote_values(record: QuoteRecord, idempotency_key: str | None) -> dict[str, Any]:
    """The quotes row that stores `record` (both quote stores insert it)."""
    quote = record.quote
    return {
        "id": record.id,
        "owner_role": record.owner.role.value,
        "owner_id": record.owner.subject,
        "price_list_id": quote.price_list_id,
        "status": quote.status,
        "years": quote.years,
        "currency": quote.currency,
        "net_cents": quote.net_cents,
        "vat_cents": quote.vat_cents,
        "total_cents": quote.total_cents,
        "created_at": quote.created_at,
        "valid_until": quote.valid_until,
        "document": quote_to_document(quote),
        "idempotency_key": idempotency_key,
        "request_hash": record.request_hash,
    }


# What a read of a quote selects (both stores): the frozen document, not the columns
# that copy its totals for reports.
QUOTE_RECORD_COLUMNS = (
    QuoteRow.id,
    QuoteRow.owner_role,
    QuoteRow.owner_id,
    QuoteRow.document,
    QuoteRow.request_hash,
)


def quote_record(row: Any) -> QuoteRecord:
    """From a row of QUOTE_RECORD_COLUMNS, or anything with the same attributes."""
    return QuoteRecord(
        id=row.id,
        owner=Principal(Role(row.owner_role), row.owner_id),
        quote=quote_from_document(row.document),
        request_hash=row.request_hash,
    )
