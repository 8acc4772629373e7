"""Who is acting, and what they may see: customers their account, partners their
customers, staff everything."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.mailbox import Mailbox


class Role(StrEnum):
    CUSTOMER = "customer"
    PARTNER = "partner"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    subject: str  # account id, partner id or staff id, by role

    def can_see(self, mailbox: Mailbox) -> bool:
        if self.role is Role.STAFF:
            return True
        if self.role is Role.PARTNER:
            return mailbox.partner_id == self.subject
        return mailbox.account_id == self.subject
