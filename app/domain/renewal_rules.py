"""Rules 2–7 of the renewal: what blocks one mailbox's renewal, and what to warn about."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from app.domain.catalog import MB_PER_GB, Plan, Promotion
from app.domain.issues import (
    ArchiveNotAvailable,
    ArchiveWillBeDeleted,
    AutoRenewalActive,
    ExtraSpaceAboveMax,
    FeaturesLost,
    FreeSpaceRequired,
    FrequencyNotAllowed,
    InsufficientArchiveSpace,
    InsufficientMailboxSpace,
    Issue,
    MailboxDeleted,
    MailboxSuspended,
    PendingOrderExists,
    PlanChangeNotAllowed,
)
from app.domain.mailbox import Mailbox, MailboxStatus, effective_status


class SpaceChoice(NamedTuple):
    """The extra space a renewal buys for the new period, in whole GB (a NamedTuple:
    one per quoted mailbox, built in C, see app.domain.quote.QuotedItem)."""

    extra_mailbox_gb: int
    extra_archive_gb: int


def gb_to_hold(mb: int) -> int:
    """The smallest whole number of GB that holds `mb` megabytes."""
    return -(-mb // MB_PER_GB)


def default_space(mailbox: Mailbox, target: Plan) -> SpaceChoice:
    """What the mailbox has now, capped at what the target plan allows.

    Extra space expires with the mailbox, so renewing renews it unless told otherwise.
    """
    extra_mailbox = mailbox.extra_mailbox_gb
    cap = target.max_extra_mailbox_gb
    if cap is not None:
        extra_mailbox = min(extra_mailbox, cap)
    extra_archive = mailbox.extra_archive_gb if target.extra_archive_allowed else 0
    return SpaceChoice(extra_mailbox, extra_archive)


def eligibility_issues(
    mailbox: Mailbox,
    today: date,
    pending_order: PendingOrderExists | None,
    *,
    automatic: bool = False,
    status: MailboxStatus | None = None,
) -> list[Issue]:
    """Rules 2–4: may this mailbox be renewed by hand at all, whatever the choice.

    `pending_order` is rule 3's blocker as the viewer may see it, when there is one.
    `automatic`: the automatic renewal itself is renewing it, so rule 2 (which keeps
    people from renewing by hand what renews by itself) does not apply. `status`: the
    mailbox's effective status on `today`, when the caller has it already."""
    issues: list[Issue] = []
    if status is None:
        status = effective_status(mailbox, today)
    if status is MailboxStatus.DELETED:
        issues.append(MailboxDeleted())
    elif status is MailboxStatus.SUSPENDED:
        issues.append(MailboxSuspended())
    if mailbox.auto_renewal and not automatic:
        issues.append(AutoRenewalActive())
    if pending_order is not None:
        issues.append(pending_order)
    return issues


def choice_issues(
    mailbox: Mailbox,
    current: Plan,
    target: Plan,
    space: SpaceChoice,
    years: int,
    promotion: Promotion | None,
) -> list[Issue]:
    """Rules 1 and 5–7 for one mailbox renewed to `target` with `space`."""
    issues: list[Issue] = []
    if promotion is not None and years > promotion.max_years:
        issues.append(FrequencyNotAllowed(promotion.max_years))
    if (current.own_domain or target.own_domain) and (
        target.code != current.code or space.extra_mailbox_gb or space.extra_archive_gb
    ):
        issues.append(PlanChangeNotAllowed())
    issues.extend(_space_issues(mailbox, target, space))
    issues.extend(_downgrade_warnings(mailbox, current, target))
    return issues


def _space_issues(mailbox: Mailbox, target: Plan, space: SpaceChoice) -> list[Issue]:
    issues: list[Issue] = []
    cap = target.max_extra_mailbox_gb
    if cap is not None and space.extra_mailbox_gb > cap and not target.own_domain:
        issues.append(ExtraSpaceAboveMax(cap))
    if space.extra_archive_gb > 0 and not target.extra_archive_allowed:
        issues.append(ArchiveNotAvailable())

    used = mailbox.used_mailbox_mb
    if target.max_mailbox_gb is not None and used > target.max_mailbox_gb * MB_PER_GB:
        issues.append(FreeSpaceRequired(used - target.max_mailbox_gb * MB_PER_GB))
    elif used > (target.mailbox_gb + space.extra_mailbox_gb) * MB_PER_GB:
        issues.append(InsufficientMailboxSpace(gb_to_hold(used - target.mailbox_gb * MB_PER_GB)))

    archived = mailbox.used_archive_mb
    if target.has_archive and archived > ((target.archive_gb + space.extra_archive_gb) * MB_PER_GB):
        issues.append(
            InsufficientArchiveSpace(gb_to_hold(archived - target.archive_gb * MB_PER_GB))
        )
    return issues


def _downgrade_warnings(mailbox: Mailbox, current: Plan, target: Plan) -> list[Issue]:
    if target is current:
        return []  # the same plan takes nothing away
    warnings: list[Issue] = []
    if current.has_archive and not target.has_archive:
        warnings.append(ArchiveWillBeDeleted(mailbox.used_archive_mb))
    lost: list[str] = []
    if current.sms_reports and not target.sms_reports:
        lost.append("sms_reports")
    extra_users_lost = max(0, current.extra_users - target.extra_users)
    if extra_users_lost:
        lost.append("extra_users")
    if lost:
        warnings.append(FeaturesLost(tuple(lost), extra_users_lost))
    return warnings
