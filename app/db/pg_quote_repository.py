"""Quotes on the lean unit of work: the quote an order is placed from, in one round trip.

An order claims its Idempotency-Key, then reads its quote, the ordering account's
language and, when it gives no holder, the holders on file of the quote's mailboxes:
QuoteRepository.to_order_claiming asks for each in turn, this one in ONE statement built
from the same claim (IdempotencyRepository's INSERT … ON CONFLICT DO NOTHING), columns
(QUOTE_RECORD_COLUMNS, HolderRepository.on_file's documents) and visibility rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import Select

from app.db.asyncpg_rows import AttributeRow
from app.db.asyncpg_statements import per_role
from app.db.holder_repository import on_file_from_documents
from app.db.models import AccountRow, MailboxRow, QuoteRow
from app.db.pg_idempotency_repository import (
    CLAIM,
    AsyncpgIdempotencyRepository,
    EarlierClaim,
    claim_values,
)
from app.db.pg_quote_store import ACCOUNT_LANGUAGE, AsyncpgQuoteStore
from app.db.quote_repository import QUOTE_RECORD_COLUMNS, QuoteRepository, quote_record
from app.db.visibility import VIEWER_SUBJECT, quotes_visible_to
from app.domain.access import Principal
from app.domain.idempotency_identity import IdempotencyClaim
from app.domain.quote_record import QuoteRecord, QuoteToOrder

QUOTE_ITEM = func.jsonb_array_elements(QuoteRow.document["items"], type_=JSONB).column_valued(
    "item"
)
LANGUAGE = ACCOUNT_LANGUAGE.label("language")
# Each of the quote's mailboxes with its own documents and its account's, as JSON.
HOLDERS_ON_FILE = (
    select(
        func.jsonb_agg(
            func.jsonb_build_array(
                MailboxRow.id,
                MailboxRow.holder,
                MailboxRow.billing,
                AccountRow.holder,
                AccountRow.billing,
            )
        )
    )
    .join(AccountRow, AccountRow.id == MailboxRow.account_id)
    .where(MailboxRow.id.in_(select(QUOTE_ITEM["mailbox_id"].astext)))
    .scalar_subquery()
    .label("holders_on_file")
)


def _to_order(with_holders: bool) -> Any:
    def build(viewer: Principal) -> Select[Any]:
        extra = (LANGUAGE, HOLDERS_ON_FILE) if with_holders else (LANGUAGE,)
        return select(*QUOTE_RECORD_COLUMNS, *extra).where(
            QuoteRow.id == bindparam("quote_id"), quotes_visible_to(viewer)
        )

    return per_role(build)


_TO_ORDER = {with_holders: _to_order(with_holders) for with_holders in (False, True)}
_CLAIMED = "key_claimed"  # 1: the claim took the key; 0: a record holds it


def _to_order_claiming(with_holders: bool) -> Any:
    """The idempotency claim (an INSERT in a CTE) and _to_order's read in one statement:
    one row always, the claim's outcome and the quote's columns (NULL: no such quote).
    The read sees the statement's snapshot, taken before any wait on a concurrent claim
    of the same key: when the claim did not take the key, the quote is not used."""

    def build(viewer: Principal) -> Select[Any]:
        claimed = CLAIM.cte("claimed")
        claim = select(func.count().label(_CLAIMED)).select_from(claimed).subquery("claim")
        extra = (LANGUAGE, HOLDERS_ON_FILE) if with_holders else (LANGUAGE,)
        visible = and_(QuoteRow.id == bindparam("quote_id"), quotes_visible_to(viewer))
        return select(claim.c[_CLAIMED], *QUOTE_RECORD_COLUMNS, *extra).select_from(
            claim.outerjoin(QuoteRow, visible)
        )

    return per_role(build)


_TO_ORDER_CLAIMING = {w: _to_order_claiming(w) for w in (False, True)}


class AsyncpgQuoteRepository(QuoteRepository):
    def __init__(self, session: AsyncSession, connection: Any) -> None:
        super().__init__(session)
        self._db = connection  # the lean unit of work's asyncpg connection

    async def get_visible(self, principal: Principal, quote_id: str) -> QuoteRecord | None:
        return await AsyncpgQuoteStore(self._db).get_visible(principal, quote_id)

    async def to_order(
        self, principal: Principal, quote_id: str, *, language_of: str | None, with_holders: bool
    ) -> QuoteToOrder | None:
        statement = _TO_ORDER[with_holders][principal.role]
        values = {
            "quote_id": quote_id,
            "language_of": language_of,
            VIEWER_SUBJECT: principal.subject,
        }
        record = await self._db.fetchrow(statement.sql, *statement.args(values))
        return None if record is None else found_quote(statement.row(record), with_holders)

    async def to_order_claiming(  # type: ignore[override]  # an EarlierClaim, not the ORM row
        self,
        claim: IdempotencyClaim,
        principal: Principal,
        quote_id: str,
        *,
        language_of: str | None,
        with_holders: bool,
    ) -> tuple[EarlierClaim | None, QuoteToOrder | None]:
        statement = _TO_ORDER_CLAIMING[with_holders][principal.role]
        values = claim_values(claim.identity, claim.fingerprint, claim.now) | {
            "quote_id": quote_id,
            "language_of": language_of,
            VIEWER_SUBJECT: principal.subject,
        }
        row = statement.row(await self._db.fetchrow(statement.sql, *statement.args(values)))
        if not row[_CLAIMED]:
            earlier = await AsyncpgIdempotencyRepository(self._session, self._db).earlier(
                claim.identity
            )
            if earlier is not None:
                return earlier, None
            # Gone since the insert found it (as IdempotencyRepository): not claimed
            # either, and the quote as read is what an order goes on with.
        return None, None if row["id"] is None else found_quote(row, with_holders)


def found_quote(row: dict[str, Any], with_holders: bool) -> QuoteToOrder:
    """A row of _TO_ORDER (or _TO_ORDER_CLAIMING) with a quote."""
    holders = None
    if with_holders:
        holders = {
            found[0]: on_file_from_documents(*found[1:]) for found in row["holders_on_file"] or ()
        }
    return QuoteToOrder(quote_record(AttributeRow(row)), row["language"], holders)
