"""Errors of the use cases (the domain's own live in app.domain.errors)."""

from __future__ import annotations

from app.domain.errors import DomainError


class ResourceNotFound(DomainError):
    """Unknown, or owned by someone else: the two are indistinguishable on purpose."""

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(f"{resource} {resource_id}")
        self.code = f"{resource}_not_found"
        self.resource = resource
        self.resource_id = resource_id


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was already used with a different request body."""

    code = "idempotency_key_reused"


class CatalogUnavailable(DomainError):
    """No price list is in force: nothing can be priced."""

    code = "catalog_unavailable"


class MailboxNotRenewable(DomainError):
    """Automatic renewal can't be switched on for a deleted or suspended mailbox."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.code = f"mailbox_{status.lower()}"


class MailboxAddressTaken(DomainError):
    """Another mailbox already has this address."""

    code = "mailbox_address_taken"


class UnknownOwner(DomainError):
    """A mailbox mirror names an account or partner we don't know."""

    code = "unknown_owner"

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class CreditLimitExceeded(DomainError):
    """A top-up would take a partner's credit past the ceiling no real balance reaches."""

    code = "credit_limit_exceeded"

    def __init__(self, ceiling_cents: int) -> None:
        super().__init__(f"above {ceiling_cents}")
        self.ceiling_cents = ceiling_cents


class IdempotencyKeyRequired(DomainError):
    """Anything that moves money needs an Idempotency-Key: a retry must not pay twice."""

    code = "idempotency_key_required"
