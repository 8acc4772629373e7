"""The quote store on PostgreSQL, in plain SQL over the pooled asyncpg connection.

Same tables, same mappers and the same results as the SQLAlchemy repositories
(tests/integration/test_quote_stores.py runs both side by side).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from app.db.mappers import mailbox_from_row
from app.db.quote_documents import quote_from_document, quote_to_document
from app.db.quote_repository import QuoteRecord
from app.domain.access import Principal, Role

_MAILBOX_COLUMNS = (
    "id, address, plan_code, extra_mailbox_gb, extra_archive_gb, used_mailbox_mb, "
    "used_archive_mb, expires_on, status, auto_renewal, auto_renewal_years, account_id, "
    "partner_id"
)
_VISIBLE_MAILBOXES = {
    Role.STAFF: f"SELECT {_MAILBOX_COLUMNS} FROM mailboxes WHERE id = ANY($1::varchar[])",
    Role.PARTNER: f"SELECT {_MAILBOX_COLUMNS} FROM mailboxes "
    "WHERE id = ANY($1::varchar[]) AND partner_id = $2",
    Role.CUSTOMER: f"SELECT {_MAILBOX_COLUMNS} FROM mailboxes "
    "WHERE id = ANY($1::varchar[]) AND account_id = $2",
}
_INSERT_QUOTE = (
    "INSERT INTO quotes (id, owner_role, owner_id, price_list_id, status, years, currency, "
    "net_cents, vat_cents, total_cents, created_at, valid_until, document, idempotency_key, "
    "request_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
    "ON CONFLICT DO NOTHING"
)
_QUOTE_COLUMNS = "id, owner_role, owner_id, document, request_hash"
_QUOTE_BY_ID = f"SELECT {_QUOTE_COLUMNS} FROM quotes WHERE id = $1"
_QUOTE_BY_KEY = (
    f"SELECT {_QUOTE_COLUMNS} FROM quotes "
    "WHERE owner_role = $1 AND owner_id = $2 AND idempotency_key = $3"
)


class AsyncpgQuoteStore:
    def __init__(self, connection: Any) -> None:
        self._db = connection  # an asyncpg Connection, with SQLAlchemy's JSON codecs

    async def visible_mailboxes(self, principal: Principal, ids: Sequence[str]) -> dict[str, Any]:
        query = _VISIBLE_MAILBOXES[principal.role]
        args: tuple[Any, ...] = (list(ids),)
        if principal.role is not Role.STAFF:
            args += (principal.subject,)
        rows = await self._db.fetch(query, *args)
        return {row["id"]: mailbox_from_row(_Row(row)) for row in rows}

    async def add(self, record: QuoteRecord, idempotency_key: str | None) -> bool:
        quote = record.quote
        status = await self._db.execute(
            _INSERT_QUOTE,
            record.id,
            record.owner.role.value,
            record.owner.subject,
            quote.price_list_id,
            quote.status,
            quote.years,
            quote.currency,
            quote.net_cents,
            quote.vat_cents,
            quote.total_cents,
            quote.created_at,
            quote.valid_until,
            json.dumps(quote_to_document(quote)),
            idempotency_key,
            record.request_hash,
        )
        return bool(status == "INSERT 0 1")

    async def by_idempotency_key(self, owner: Principal, key: str) -> QuoteRecord | None:
        row = await self._db.fetchrow(_QUOTE_BY_KEY, owner.role.value, owner.subject, key)
        return None if row is None else _record(row)

    async def get(self, quote_id: str) -> QuoteRecord | None:
        row = await self._db.fetchrow(_QUOTE_BY_ID, quote_id)
        return None if row is None else _record(row)


class _Row:
    """Attribute access over an asyncpg Record, as the shared mappers expect."""

    __slots__ = ("_record",)

    def __init__(self, record: Any) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        return self._record[name]


def _record(row: Any) -> QuoteRecord:
    return QuoteRecord(
        id=row["id"],
        owner=Principal(Role(row["owner_role"]), row["owner_id"]),
        quote=quote_from_document(row["document"]),
        request_hash=row["request_hash"],
    )
