"""The renewal rules' outcomes: small named facts with a stable code.

A blocking issue stops an order; a warning only informs. Each carries the numbers a
user interface needs to explain it (MB to free, the smallest extra GB that fits…).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

ParamValue = int | str | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    code: ClassVar[str]
    blocking: ClassVar[bool] = True

    def params(self) -> dict[str, ParamValue]:
        """The issue's numbers, by name, for the API and the message templates."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class FrequencyNotAllowed(Issue):
    """Rule 1: a plan on promotion renews for at most `max_years`."""

    code: ClassVar[str] = "frequency_not_allowed"
    max_years: int


@dataclass(frozen=True, slots=True)
class AutoRenewalActive(Issue):
    """Rule 2: turn automatic renewal off before renewing by hand."""

    code: ClassVar[str] = "auto_renewal_active"


@dataclass(frozen=True, slots=True)
class PendingOrderExists(Issue):
    """Rule 3: one unpaid renewal order per mailbox: pay or cancel it first."""

    code: ClassVar[str] = "pending_order_exists"
    order_id: str | None = None  # None: the viewer can't open that order


@dataclass(frozen=True, slots=True)
class MailboxDeleted(Issue):
    """Rule 4: past the 90-day grace the mailbox is gone; it can only be bought anew."""

    code: ClassVar[str] = "mailbox_deleted"


@dataclass(frozen=True, slots=True)
class MailboxSuspended(Issue):
    """Rule 4: a suspended partner mailbox (its domain lapsed) cannot be renewed."""

    code: ClassVar[str] = "mailbox_suspended"


@dataclass(frozen=True, slots=True)
class PlanChangeNotAllowed(Issue):
    """Rule 5: a mailbox on its own domain keeps its plan and gets no extra space."""

    code: ClassVar[str] = "plan_change_not_allowed"


@dataclass(frozen=True, slots=True)
class ExtraSpaceAboveMax(Issue):
    """Rule 6: plan GB + extra GB may not exceed the plan's maximum."""

    code: ClassVar[str] = "extra_space_above_max"
    max_extra_mailbox_gb: int


@dataclass(frozen=True, slots=True)
class FreeSpaceRequired(Issue):
    """Rule 6: more is used than the target plan can ever hold: delete messages."""

    code: ClassVar[str] = "free_space_required"
    mb_to_free: int


@dataclass(frozen=True, slots=True)
class InsufficientMailboxSpace(Issue):
    """Rule 6: used space exceeds the new quota; `smallest_extra_mailbox_gb` fits."""

    code: ClassVar[str] = "insufficient_mailbox_space"
    smallest_extra_mailbox_gb: int


@dataclass(frozen=True, slots=True)
class InsufficientArchiveSpace(Issue):
    """Rule 6: archived messages exceed the new archive quota."""

    code: ClassVar[str] = "insufficient_archive_space"
    smallest_extra_archive_gb: int


@dataclass(frozen=True, slots=True)
class ArchiveNotAvailable(Issue):
    """Rule 6: extra archive space on a plan that has no archive."""

    code: ClassVar[str] = "archive_not_available"


@dataclass(frozen=True, slots=True)
class PlanNotInPriceList(Issue):
    """The mailbox's plan is not sold any more: staff must move it to a current one."""

    code: ClassVar[str] = "plan_not_in_price_list"


@dataclass(frozen=True, slots=True)
class ArchiveWillBeDeleted(Issue):
    """Rule 7 (warning): the downgrade switches the archive off and deletes it."""

    code: ClassVar[str] = "archive_will_be_deleted"
    blocking: ClassVar[bool] = False
    archived_mb: int


@dataclass(frozen=True, slots=True)
class FeaturesLost(Issue):
    """Rule 7 (warning): SMS reports or extra users go away with the plan change."""

    code: ClassVar[str] = "features_lost"
    blocking: ClassVar[bool] = False
    features: tuple[str, ...]
    extra_users_lost: int
