"""A stored quote: the priced quote plus who asked for it, and who may see it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.domain.access import Principal, Role
from app.domain.holder_record import HolderOnFile
from app.domain.quote import Quote


@dataclass(frozen=True, slots=True)
class QuoteRecord:
    """A stored quote: the domain quote plus who asked for it."""

    id: str
    owner: Principal
    quote: Quote
    request_hash: str | None = None

    def visible_to(self, principal: Principal) -> bool:
        return principal.role is Role.STAFF or principal == self.owner


@dataclass(frozen=True, slots=True)
class QuoteToOrder:
    """A quote about to be ordered and what the order reads beside it: the ordering
    account's language (None: not asked for, or no such account) and, when asked for,
    the holders on file of the quote's mailboxes (one round trip on PostgreSQL)."""

    record: QuoteRecord
    language: str | None = None
    holders_on_file: Mapping[str, HolderOnFile | None] | None = None
