"""Quoting a renewal: validate the request, apply the rules per mailbox, price it.

`quote_renewal` is the one entry point: a pure function of the request, the mailboxes,
the price list and `now`. A rule violation is data in a blocked quote; only a
malformed request raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from app.domain import plan_change
from app.domain.calendar import add_years, italian_date
from app.domain.catalog import MB_PER_GB, Plan, PriceList, Promotion
from app.domain.errors import (
    ConventionCodeInvalid,
    FieldError,
    InvalidRenewalRequest,
    MailboxNotFound,
    known_codes,
)
from app.domain.issues import Issue, PendingOrderExists, PlanNotInPriceList
from app.domain.mailbox import Mailbox, MailboxStatus, effective_status
from app.domain.plan_change import TakesEffect
from app.domain.pricing import QuoteLine, price_lines, vat_cents
from app.domain.renewal_rules import (
    SpaceChoice,
    choice_issues,
    default_space,
    eligibility_issues,
)

MIN_YEARS, MAX_YEARS = 1, 5
MAX_ITEMS = 99
MAX_EXTRA_GB = 1000  # far above any plan; stops absurd numbers before they are priced
DEFAULT_VALIDITY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class RenewalItem:
    """One mailbox to renew; None means "as it is now"."""

    mailbox_id: str
    plan_code: str | None = None
    extra_mailbox_gb: int | None = None
    extra_archive_gb: int | None = None


@dataclass(frozen=True, slots=True)
class RenewalRequest:
    years: int
    items: tuple[RenewalItem, ...]
    signature_kit: str | None = None
    convention_code: str | None = None


class QuotedItem(NamedTuple):
    """One mailbox's renewal as quoted: what it becomes and what stands in the way.

    A NamedTuple, immutable like the frozen dataclasses around it but built in C: one
    is built for every mailbox of every quote, and a frozen dataclass's __init__ (a
    setattr call per field) was a third of a 10-mailbox quote (issue 10: domain quotes/s).
    """

    mailbox_id: str
    address: str
    status: MailboxStatus
    current_plan: str
    target_plan: str
    extra_mailbox_gb: int
    extra_archive_gb: int
    mailbox_quota_mb: int
    archive_quota_mb: int
    current_expiry: date
    new_expiry: date
    promotion_applied: bool
    issues: tuple[Issue, ...]
    # It takes something away (app.domain.plan_change): it waits for the expiry, unless
    # the mailbox has expired by the time it is paid.
    downgrade: bool = False
    takes_effect: TakesEffect = TakesEffect.AT_PAYMENT  # if paid on the quote's day
    effective_on: date | None = None  # if paid on the quote's day; None: stored before

    @property
    def blocking_issues(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.blocking)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if not i.blocking)

    @property
    def blocked(self) -> bool:
        return any(i.blocking for i in self.issues)

    @property
    def deletes_archive(self) -> bool:
        return any(i.code == "archive_will_be_deleted" for i in self.issues)


class Quote(NamedTuple):
    """A priced renewal (a NamedTuple, built in C: see QuotedItem)."""

    price_list_id: str
    currency: str
    years: int
    signature_kit: str | None
    convention_code: str | None
    items: tuple[QuotedItem, ...]
    lines: tuple[QuoteLine, ...]
    net_cents: int
    vat_rate: Decimal
    vat_cents: int
    total_cents: int
    created_at: datetime
    valid_until: datetime

    @property
    def blocked(self) -> bool:
        return any(item.blocked for item in self.items)

    @property
    def status(self) -> str:
        return "blocked" if self.blocked else "ok"

    @property
    def requires_archive_acknowledgement(self) -> bool:
        return any(item.deletes_archive for item in self.items)

    def is_valid_at(self, moment: datetime) -> bool:
        return moment < self.valid_until


def quote_renewal(
    request: RenewalRequest,
    mailboxes: Mapping[str, Mailbox],
    catalog: PriceList,
    now: datetime,
    pending_orders: Mapping[str, PendingOrderExists] | None = None,
    validity: timedelta = DEFAULT_VALIDITY,
    *,
    automatic: bool = False,
) -> Quote:
    """Price a renewal request and apply rules 1–9 to every mailbox in it.

    `pending_orders` maps mailbox ids to their unpaid renewal order, as the viewer may
    see it (see app.domain.access.pending_order_seen_by). `automatic`: quoted by the
    automatic renewal itself (rule 2 does not apply, see eligibility_issues).
    """
    _validate(request, catalog)
    today = italian_date(now)
    pending = pending_orders or {}
    convention = None
    if request.convention_code is not None:
        convention = catalog.active_convention(request.convention_code, today)
        if convention is None:
            raise ConventionCodeInvalid(request.convention_code)

    quoted: list[QuotedItem] = []
    promotions: dict[str, Promotion | None] = {}  # by plan: mailboxes often share one
    priced: list[tuple[str, Plan, int, SpaceChoice]] = []
    for index, item in enumerate(request.items):
        mailbox = mailboxes.get(item.mailbox_id)
        if mailbox is None:
            raise MailboxNotFound(item.mailbox_id, f"items[{index}].mailbox_id")
        current = catalog.plans.get(mailbox.plan_code)
        if current is None:
            raise InvalidRenewalRequest(
                [FieldError(f"items[{index}].mailbox_id", "plan_not_in_price_list")]
            )
        target = catalog.plans[item.plan_code or mailbox.plan_code]
        space = _space_choice(item, mailbox, target)
        if target.code in promotions:
            promotion = promotions[target.code]
        else:
            promotion = promotions[target.code] = catalog.active_promotion(target.code, today)
        status = effective_status(mailbox, today)
        issues = eligibility_issues(
            mailbox, today, pending.get(mailbox.id), automatic=automatic, status=status
        )
        issues += choice_issues(mailbox, current, target, space, request.years, promotion)
        yearly = promotion.yearly_price_cents if promotion else target.yearly_price_cents
        downgrade = plan_change.is_downgrade(
            mailbox, current, target, space.extra_mailbox_gb, space.extra_archive_gb
        )
        takes_effect, effective_on = plan_change.schedule(downgrade, mailbox.expires_on, today)
        priced.append((mailbox.id, target, yearly, space))
        quoted.append(
            QuotedItem(
                mailbox_id=mailbox.id,
                address=mailbox.address,
                status=status,
                current_plan=current.code,
                target_plan=target.code,
                extra_mailbox_gb=space.extra_mailbox_gb,
                extra_archive_gb=space.extra_archive_gb,
                mailbox_quota_mb=(target.mailbox_gb + space.extra_mailbox_gb) * MB_PER_GB,
                archive_quota_mb=(
                    (target.archive_gb + space.extra_archive_gb) * MB_PER_GB
                    if target.has_archive
                    else 0
                ),
                current_expiry=mailbox.expires_on,
                new_expiry=add_years(mailbox.expires_on, request.years),
                promotion_applied=promotion is not None,
                issues=tuple(issues),
                downgrade=downgrade,
                takes_effect=takes_effect,
                effective_on=effective_on,
            )
        )

    lines = price_lines(catalog, priced, request.years, request.signature_kit, convention)
    net = sum(line.amount_cents for line in lines)
    vat = vat_cents(net, catalog.vat_rate)
    return Quote(
        price_list_id=catalog.id,
        currency=catalog.currency,
        years=request.years,
        signature_kit=request.signature_kit,
        convention_code=convention.code if convention else None,
        items=tuple(quoted),
        lines=lines,
        net_cents=net,
        vat_rate=catalog.vat_rate,
        vat_cents=vat,
        total_cents=net + vat,
        created_at=now,
        valid_until=now + validity,
    )


def renewal_blockers(
    mailbox: Mailbox, catalog: PriceList, now: datetime, pending_order: PendingOrderExists | None
) -> tuple[Issue, ...]:
    """Why a same-plan, one-year renewal of `mailbox` would be blocked now (empty: it can).

    This is what drives the "Rinnova" button before the customer chooses anything.
    """
    today = italian_date(now)
    issues = eligibility_issues(mailbox, today, pending_order)
    plan = catalog.plans.get(mailbox.plan_code)
    if plan is None:
        issues.append(PlanNotInPriceList())  # a quote would be refused: say so up front
    else:
        space = default_space(mailbox, plan)
        promotion = catalog.active_promotion(plan.code, today)
        issues += choice_issues(mailbox, plan, plan, space, MIN_YEARS, promotion)
    return tuple(issue for issue in issues if issue.blocking)


def _space_choice(item: RenewalItem, mailbox: Mailbox, target: Plan) -> SpaceChoice:
    default = default_space(mailbox, target)
    if item.extra_mailbox_gb is None and item.extra_archive_gb is None:
        return default  # the common "as it is now": no second object to build
    return SpaceChoice(
        default.extra_mailbox_gb if item.extra_mailbox_gb is None else item.extra_mailbox_gb,
        default.extra_archive_gb if item.extra_archive_gb is None else item.extra_archive_gb,
    )


def _validate(request: RenewalRequest, catalog: PriceList) -> None:
    errors: list[FieldError] = []
    if not MIN_YEARS <= request.years <= MAX_YEARS:
        errors.append(
            FieldError("years", "frequency_not_allowed", (("min", MIN_YEARS), ("max", MAX_YEARS)))
        )
    if not request.items:
        errors.append(FieldError("items", "items_required"))
    elif len(request.items) > MAX_ITEMS:
        errors.append(FieldError("items", "too_many_items", (("max", MAX_ITEMS),)))
    seen: set[str] = set()
    for index, item in enumerate(request.items):
        where = f"items[{index}]"
        if item.mailbox_id in seen:
            errors.append(FieldError(f"{where}.mailbox_id", "duplicate_mailbox"))
        seen.add(item.mailbox_id)
        if item.plan_code is not None and item.plan_code not in catalog.plans:
            errors.append(FieldError(f"{where}.plan", "unknown_plan", known_codes(catalog.plans)))
        for name, gb in (
            ("extra_mailbox_gb", item.extra_mailbox_gb),
            ("extra_archive_gb", item.extra_archive_gb),
        ):
            if gb is not None and not 0 <= gb <= MAX_EXTRA_GB:
                errors.append(
                    FieldError(
                        f"{where}.{name}", "out_of_range", (("min", 0), ("max", MAX_EXTRA_GB))
                    )
                )
    if request.signature_kit is not None and request.signature_kit not in catalog.signature_kits:
        errors.append(
            FieldError(
                "signature_kit", "unknown_signature_kit", known_codes(catalog.signature_kits)
            )
        )
    if errors:
        raise InvalidRenewalRequest(errors)
