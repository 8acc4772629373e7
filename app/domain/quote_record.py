"""A stored quote: the priced quote plus who asked for it, and who may see it."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.access import Principal, Role
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
