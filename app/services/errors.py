"""Errors of the use cases (the domain's own live in app.domain.errors)."""

from __future__ import annotations

from app.domain.errors import DomainError, MailboxAddressTaken

__all__ = ["MailboxAddressTaken"]  # raised by the mailbox repository, mapped with the rest


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


class UnknownOwner(DomainError):
    """A mailbox mirror names an account or partner we don't know (yet)."""

    code = "unknown_owner"

    def __init__(self, field: str, owner_id: str) -> None:
        super().__init__(f"{field} {owner_id}")
        self.field = field
        self.owner_id = owner_id

    @property
    def create_with(self) -> str:
        """The call that creates the missing owner, for the caller to make first."""
        resource = "partners" if self.field == "partner_id" else "accounts"
        return f"PUT /v1/admin/{resource}/{self.owner_id}"


class PriceListInForce(DomainError):
    """A price list already in force is never edited: publish a new, later-dated one."""

    code = "price_list_in_force"

    def __init__(self, price_list_id: str) -> None:
        super().__init__(price_list_id)
        self.price_list_id = price_list_id


class PaymentEventNotStored(DomainError):
    """A verified payment event could not be stored (the database failed): the provider
    must deliver it again, so the answer is one it retries."""

    code = "payment_event_not_stored"


class PaymentEventAlreadyApplied(DomainError):
    """Only an event held for reconciliation (or awaiting a retry) can be applied again."""

    code = "payment_event_already_applied"

    def __init__(self, event_row_id: int, outcome: str | None) -> None:
        super().__init__(f"payment event {event_row_id}: {outcome}")
        self.event_row_id = event_row_id
        self.outcome = outcome


class CreditLimitExceeded(DomainError):
    """A top-up would take a partner's credit past the ceiling no real balance reaches."""

    code = "credit_limit_exceeded"

    def __init__(self, ceiling_cents: int) -> None:
        super().__init__(f"above {ceiling_cents}")
        self.ceiling_cents = ceiling_cents


class IdempotencyKeyRequired(DomainError):
    """Anything that moves money needs an Idempotency-Key: a retry must not pay twice."""

    code = "idempotency_key_required"
