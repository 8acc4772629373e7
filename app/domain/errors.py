"""Domain errors: requests that cannot be quoted at all (as opposed to blocked quotes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code: str = "domain_error"


class MailboxAddressTaken(DomainError):
    """Another mailbox already has this address."""

    code = "mailbox_address_taken"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One offending field of a request, with a stable code."""

    field: str
    code: str
    params: tuple[tuple[str, int | str], ...] = ()


def known_codes(codes: Iterable[str]) -> tuple[tuple[str, int | str], ...]:
    """The `codes` param of an unknown-code error: the valid ones, so a message can list
    them (an unknown plan names the price list's plans)."""
    return (("codes", ", ".join(sorted(codes))),)


class InvalidRequest(DomainError):
    """The request is malformed; `errors` names every offending field."""

    code = "validation_failed"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(", ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = errors


class InvalidRenewalRequest(InvalidRequest):
    """Wrong years, unknown plan, negative space…"""


class InvalidOrderRequest(InvalidRequest):
    """Bad tax ids, e-invoicing data, or a payment method the holder can't use."""


class ConventionCodeInvalid(DomainError):
    """The convention code does not exist or is not valid today."""

    code = "convention_code_invalid"

    def __init__(self, convention_code: str) -> None:
        super().__init__(convention_code)
        self.convention_code = convention_code


class MailboxNotFound(DomainError):
    """No mailbox with this id is visible to the caller."""

    code = "mailbox_not_found"

    def __init__(self, mailbox_id: str, field: str | None = None) -> None:
        super().__init__(mailbox_id)
        self.mailbox_id = mailbox_id
        self.field = field
