"""Who is acting, and what they may see: customers their account, partners their
customers, staff everything."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.issues import PendingOrderExists


class Role(StrEnum):
    CUSTOMER = "customer"
    PARTNER = "partner"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    subject: str  # account id, partner id or staff id, by role

    def may_open_order_of(self, owner: Principal) -> bool:
        """An order is opened by whoever placed it, and by staff."""
        return self.role is Role.STAFF or self == owner


@dataclass(frozen=True, slots=True)
class PendingOrder:
    """A mailbox's unpaid renewal order (rule 3), and who placed it."""

    order_id: str
    owner: Principal


def visible_order_id(viewer: Principal, pending: PendingOrder) -> str | None:
    """The pending order's id if `viewer` can open that order; None otherwise, so a
    partner learns that its customer's order blocks a mailbox, never the order's id."""
    return pending.order_id if viewer.may_open_order_of(pending.owner) else None


def pending_order_seen_by(viewer: Principal, pending: PendingOrder) -> PendingOrderExists:
    """Rule 3's blocker as `viewer` may see it."""
    return PendingOrderExists(visible_order_id(viewer, pending))
