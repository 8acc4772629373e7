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
from app.domain.access import PendingOrder, Principal, Role
from app.domain.mailbox import Mailbox

# The mailboxes and their unpaid order (rule 3) in one round trip.
_MAILBOXES = (
    "SELECT m.id, m.address, m.plan_code, m.extra_mailbox_gb, m.extra_archive_gb, "
    "m.used_mailbox_mb, m.used_archive_mb, m.expires_on, m.status, m.auto_renewal, "
    "m.auto_renewal_years, m.account_id, m.partner_id, p.order_id AS pending_order_id, "
    "o.owner_role AS pending_owner_role, o.owner_id AS pending_owner_id "
    "FROM mailboxes m LEFT JOIN pending_renewals p ON p.mailbox_id = m.id "
    "LEFT JOIN orders o ON o.id = p.order_id "
    "WHERE m.id = ANY($1::varchar[])"
)
_VISIBLE_MAILBOXES = {
    Role.STAFF: _MAILBOXES,
    Role.PARTNER: _MAILBOXES + " AND m.partner_id = $2",
    Role.CUSTOMER: _MAILBOXES + " AND m.account_id = $2",
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

    async def visible_mailboxes(
        self, principal: Principal, ids: Sequence[str]
    ) -> tuple[dict[str, Mailbox], dict[str, PendingOrder]]:
        query = _VISIBLE_MAILBOXES[principal.role]
        args: tuple[Any, ...] = (list(ids),)
        if principal.role is not Role.STAFF:
            args += (principal.subject,)
        rows = await self._db.fetch(query, *args)
        mailboxes = {row["id"]: mailbox_from_row(_Row(row)) for row in rows}
        pending = {
            row["id"]: PendingOrder(
                row["pending_order_id"],
                Principal(Role(row["pending_owner_role"]), row["pending_owner_id"]),
            )
            for row in rows
            if row["pending_order_id"]
        }
        return mailboxes, pending

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
