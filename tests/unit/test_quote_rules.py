"""Rules 1–9 of docs/domain.md and its worked examples, one test each.

Everything is quoted against the demo price list at a fixed `now`; amounts are cents.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app.domain.access import (
    PendingOrder,
    Principal,
    Role,
    pending_order_seen_by,
    visible_order_id,
)
from app.domain.catalog import ConventionCode, PriceList, Promotion
from app.domain.errors import ConventionCodeInvalid, InvalidRenewalRequest, MailboxNotFound
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
    MailboxDeleted,
    MailboxSuspended,
    PendingOrderExists,
    PlanChangeNotAllowed,
)
from app.domain.mailbox import Mailbox, MailboxStatus
from app.domain.quote import (
    Quote,
    QuotedItem,
    RenewalItem,
    RenewalRequest,
    quote_renewal,
    renewal_blockers,
)
from app.sandbox.demo_catalog import DEMO_PRICE_LIST_ID, demo_price_list
from tests.unit.builders import mailbox

NOW = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)
TODAY = NOW.date()
JUNE_PROMOTION = Promotion("PRO", 1900, date(2026, 6, 1), date(2026, 6, 30))


def quote(
    *boxes: Mailbox,
    years: int = 1,
    plan: str | None = None,
    extra_mailbox_gb: int | None = None,
    extra_archive_gb: int | None = None,
    kit: str | None = None,
    convention: str | None = None,
    catalog: PriceList | None = None,
    pending_orders: dict[str, PendingOrderExists] | None = None,
    now: datetime = NOW,
) -> Quote:
    boxes = boxes or (mailbox(),)
    items = tuple(RenewalItem(box.id, plan, extra_mailbox_gb, extra_archive_gb) for box in boxes)
    return quote_renewal(
        RenewalRequest(years, items, kit, convention),
        {box.id: box for box in boxes},
        catalog or demo_price_list(),
        now,
        pending_orders=pending_orders,
    )


def only_item(q: Quote) -> QuotedItem:
    assert len(q.items) == 1
    return q.items[0]


def codes(q: Quote) -> list[str]:
    return [issue.code for issue in only_item(q).issues]


def blocking_codes(q: Quote) -> list[str]:
    return [issue.code for issue in only_item(q).blocking_issues]


def line_amounts(q: Quote) -> list[tuple[str, int, int, int]]:
    return [(ln.kind, ln.quantity, ln.unit_price_cents, ln.amount_cents) for ln in q.lines]


# --- Worked examples -----------------------------------------------------------------


def test_example_standard_to_standard_one_year_300_mb_used_costs_12_08() -> None:
    q = quote(mailbox(plan_code="STANDARD", used_mailbox_mb=300), years=1)

    assert q.status == "ok"
    assert codes(q) == []
    assert line_amounts(q) == [("plan", 1, 990, 990)]
    assert (q.net_cents, q.vat_cents, q.total_cents) == (990, 218, 1208)


def test_example_pro_three_years_keeping_2_gb_extra_costs_113_46() -> None:
    box = mailbox(plan_code="PRO", extra_mailbox_gb=2, used_mailbox_mb=3000)
    q = quote(box, years=3)

    assert q.status == "ok"
    assert codes(q) == []
    assert only_item(q).extra_mailbox_gb == 2
    assert line_amounts(q) == [
        ("plan", 3, 2500, 7500),
        ("extra_mailbox_space", 6, 300, 1800),
    ]
    assert (q.net_cents, q.vat_cents, q.total_cents) == (9300, 2046, 11346)


def test_example_premium_to_standard_needs_1_gb_and_warns_archive_will_be_deleted() -> None:
    box = mailbox(plan_code="PREMIUM", used_mailbox_mb=1500, used_archive_mb=5000)
    q = quote(box, plan="STANDARD")

    item = only_item(q)
    assert q.status == "blocked"
    assert item.blocking_issues == (InsufficientMailboxSpace(smallest_extra_mailbox_gb=1),)
    assert ArchiveWillBeDeleted(archived_mb=5000) in item.warnings
    # the lines are still there so the frontend can show what to fix
    assert (q.net_cents, q.vat_cents, q.total_cents) == (990, 218, 1208)


def test_example_premium_to_standard_with_1_gb_extra_quotes_12_90() -> None:
    box = mailbox(plan_code="PREMIUM", used_mailbox_mb=1500, used_archive_mb=5000)
    q = quote(box, plan="STANDARD", extra_mailbox_gb=1)

    item = only_item(q)
    assert q.status == "ok"
    assert item.blocking_issues == ()
    assert ArchiveWillBeDeleted(archived_mb=5000) in item.warnings
    assert q.requires_archive_acknowledgement
    assert line_amounts(q) == [
        ("plan", 1, 990, 990),
        ("extra_mailbox_space", 1, 300, 300),
    ]
    assert (q.net_cents, q.vat_cents, q.total_cents) == (1290, 284, 1574)


def test_example_pro_to_standard_with_2400_mb_used_must_free_352_mb() -> None:
    box = mailbox(plan_code="PRO", used_mailbox_mb=2400)
    q = quote(box, plan="STANDARD")

    assert q.status == "blocked"
    assert only_item(q).blocking_issues == (FreeSpaceRequired(mb_to_free=352),)
    assert "insufficient_mailbox_space" not in codes(q)


def test_example_plan_on_promotion_for_three_years_is_frequency_not_allowed() -> None:
    box = mailbox(plan_code="PRO", used_mailbox_mb=100)
    q = quote(box, years=3, catalog=demo_price_list(promotions=(JUNE_PROMOTION,)))

    assert q.status == "blocked"
    assert only_item(q).blocking_issues == (FrequencyNotAllowed(max_years=2),)
    assert blocking_codes(q) == ["frequency_not_allowed"]


# --- Rule 1: years ----------------------------------------------------------------


@pytest.mark.parametrize("years", [0, 6, -1])
def test_years_outside_one_to_five_is_an_invalid_request(years: int) -> None:
    with pytest.raises(InvalidRenewalRequest) as caught:
        quote(years=years)
    assert caught.value.code == "validation_failed"
    [error] = caught.value.errors
    assert error.field == "years"
    assert error.code == "frequency_not_allowed"
    assert dict(error.params) == {"min": 1, "max": 5}


@pytest.mark.parametrize("years", [1, 2, 3, 4, 5])
def test_years_one_to_five_are_allowed(years: int) -> None:
    q = quote(years=years)
    assert q.status == "ok"
    assert q.years == years
    assert q.net_cents == 990 * years


@pytest.mark.parametrize("years", [1, 2])
def test_plan_on_promotion_renews_for_one_or_two_years_at_the_promotional_price(years: int) -> None:
    box = mailbox(plan_code="PRO", used_mailbox_mb=100)
    q = quote(box, years=years, catalog=demo_price_list(promotions=(JUNE_PROMOTION,)))

    assert q.status == "ok"
    assert only_item(q).promotion_applied
    assert line_amounts(q) == [("plan", years, 1900, 1900 * years)]


def test_target_plan_on_promotion_limits_the_years_even_when_changing_plan() -> None:
    q = quote(
        mailbox(plan_code="STANDARD"),
        plan="PRO",
        years=3,
        catalog=demo_price_list(promotions=(JUNE_PROMOTION,)),
    )
    assert "frequency_not_allowed" in blocking_codes(q)


def test_promotion_on_another_plan_does_not_limit_the_years() -> None:
    q = quote(
        mailbox(plan_code="STANDARD"),
        years=5,
        catalog=demo_price_list(promotions=(JUNE_PROMOTION,)),
    )
    assert q.status == "ok"
    assert not only_item(q).promotion_applied
    assert q.net_cents == 990 * 5


def test_promotion_outside_its_dates_is_not_applied() -> None:
    ended = Promotion("PRO", 1900, date(2026, 1, 1), date(2026, 6, 14))
    q = quote(
        mailbox(plan_code="PRO", used_mailbox_mb=100),
        years=3,
        catalog=demo_price_list(promotions=(ended,)),
    )
    assert q.status == "ok"
    assert not only_item(q).promotion_applied
    assert q.net_cents == 2500 * 3


# --- Rule 2: automatic renewal -------------------------------------------------------


def test_mailbox_with_automatic_renewal_on_is_auto_renewal_active() -> None:
    q = quote(mailbox(auto_renewal=True))
    assert q.status == "blocked"
    assert only_item(q).blocking_issues == (AutoRenewalActive(),)
    assert blocking_codes(q) == ["auto_renewal_active"]


# --- Rule 3: pending order ------------------------------------------------------------


def test_mailbox_with_an_unpaid_order_is_pending_order_exists_with_its_id() -> None:
    box = mailbox(id="mbx-42")
    q = quote(box, pending_orders={"mbx-42": PendingOrderExists("ord-2026-0007")})

    item = only_item(q)
    assert q.status == "blocked"
    assert item.blocking_issues == (PendingOrderExists(order_id="ord-2026-0007"),)
    assert item.issues[0].code == "pending_order_exists"
    assert item.issues[0].params() == {"order_id": "ord-2026-0007"}


def test_pending_order_of_another_mailbox_does_not_block() -> None:
    q = quote(mailbox(id="mbx-42"), pending_orders={"mbx-99": PendingOrderExists("ord-2026-0007")})
    assert q.status == "ok"


# --- Rule 4: deleted and suspended --------------------------------------------------------


def test_stored_deleted_mailbox_is_mailbox_deleted() -> None:
    q = quote(mailbox(status=MailboxStatus.DELETED))
    assert q.status == "blocked"
    assert only_item(q).blocking_issues == (MailboxDeleted(),)
    assert only_item(q).status is MailboxStatus.DELETED


def test_mailbox_91_days_past_expiry_is_mailbox_deleted_whatever_the_mirror_says() -> None:
    box = mailbox(expires_on=TODAY - timedelta(days=91), status=MailboxStatus.ACTIVE)
    q = quote(box)
    assert only_item(q).status is MailboxStatus.DELETED
    assert blocking_codes(q) == ["mailbox_deleted"]


def test_mailbox_90_days_past_expiry_is_still_expired_and_renewable() -> None:
    box = mailbox(expires_on=TODAY - timedelta(days=90), status=MailboxStatus.ACTIVE)
    q = quote(box)
    assert only_item(q).status is MailboxStatus.EXPIRED
    assert q.status == "ok"


def test_mailbox_past_expiry_is_expired_whatever_the_mirror_says() -> None:
    box = mailbox(expires_on=TODAY - timedelta(days=1), status=MailboxStatus.ACTIVE)
    q = quote(box)
    assert only_item(q).status is MailboxStatus.EXPIRED
    assert q.status == "ok"


def test_suspended_mailbox_is_mailbox_suspended() -> None:
    q = quote(mailbox(status=MailboxStatus.SUSPENDED))
    assert q.status == "blocked"
    assert only_item(q).blocking_issues == (MailboxSuspended(),)


# --- Rule 5: own-domain mailboxes -----------------------------------------------------------


def test_domain_mailbox_cannot_change_to_pro_plan_change_not_allowed() -> None:
    q = quote(mailbox(plan_code="DOMAIN"), plan="PRO")
    assert q.status == "blocked"
    assert only_item(q).blocking_issues == (PlanChangeNotAllowed(),)


def test_domain_mailbox_with_extra_gb_is_plan_change_not_allowed() -> None:
    q = quote(mailbox(plan_code="DOMAIN"), extra_mailbox_gb=1)
    assert q.status == "blocked"
    assert only_item(q).blocking_issues == (PlanChangeNotAllowed(),)


def test_domain_mailbox_with_extra_archive_gb_is_plan_change_not_allowed() -> None:
    q = quote(mailbox(plan_code="DOMAIN"), extra_archive_gb=1)
    assert "plan_change_not_allowed" in blocking_codes(q)


def test_domain_mailbox_renewed_as_it_is_is_fine() -> None:
    q = quote(mailbox(plan_code="DOMAIN", used_mailbox_mb=800), years=2)
    assert q.status == "ok"
    assert line_amounts(q) == [("plan", 2, 990, 1980)]


# --- Rule 6: space ------------------------------------------------------------------


def test_standard_with_2_gb_extra_is_extra_space_above_max() -> None:
    q = quote(mailbox(plan_code="STANDARD"), extra_mailbox_gb=2)
    assert q.status == "blocked"
    assert only_item(q).blocking_issues == (ExtraSpaceAboveMax(max_extra_mailbox_gb=1),)


def test_standard_with_1_gb_extra_is_allowed() -> None:
    q = quote(mailbox(plan_code="STANDARD"), extra_mailbox_gb=1)
    assert q.status == "ok"
    assert only_item(q).mailbox_quota_mb == 2 * 1024
    assert line_amounts(q) == [("plan", 1, 990, 990), ("extra_mailbox_space", 1, 300, 300)]


def test_used_space_above_the_target_max_is_free_space_required_with_mb_to_free() -> None:
    q = quote(mailbox(plan_code="DOMAIN", used_mailbox_mb=1100))
    assert only_item(q).blocking_issues == (FreeSpaceRequired(mb_to_free=76),)


def test_used_space_above_the_quota_is_insufficient_mailbox_space_with_smallest_fix() -> None:
    box = mailbox(plan_code="PRO", extra_mailbox_gb=0, used_mailbox_mb=4000)
    q = quote(box)
    # 4000 MB - 2048 MB included = 1952 MB → 2 GB
    assert only_item(q).blocking_issues == (InsufficientMailboxSpace(smallest_extra_mailbox_gb=2),)
    assert quote(box, extra_mailbox_gb=2).status == "ok"
    assert quote(box, extra_mailbox_gb=1).status == "blocked"


def test_used_space_exactly_at_the_quota_fits() -> None:
    q = quote(mailbox(plan_code="STANDARD", used_mailbox_mb=1024))
    assert q.status == "ok"


def test_reducing_extra_space_that_is_in_use_is_insufficient_mailbox_space() -> None:
    box = mailbox(plan_code="PRO", extra_mailbox_gb=3, used_mailbox_mb=4500)
    q = quote(box, extra_mailbox_gb=1)
    assert only_item(q).blocking_issues == (InsufficientMailboxSpace(smallest_extra_mailbox_gb=3),)


def test_reducing_extra_space_that_is_not_in_use_is_allowed() -> None:
    box = mailbox(plan_code="PRO", extra_mailbox_gb=3, used_mailbox_mb=2500)
    q = quote(box, extra_mailbox_gb=1)
    assert q.status == "ok"
    assert only_item(q).extra_mailbox_gb == 1


def test_archive_above_the_archive_quota_is_insufficient_archive_space_with_smallest_fix() -> None:
    box = mailbox(plan_code="PREMIUM", used_mailbox_mb=100, used_archive_mb=5000)
    q = quote(box, plan="PRO")
    # 5000 MB - 3072 MB included = 1928 MB → 2 GB
    item = only_item(q)
    assert item.blocking_issues == (InsufficientArchiveSpace(smallest_extra_archive_gb=2),)
    assert quote(box, plan="PRO", extra_archive_gb=2).status == "ok"
    assert quote(box, plan="PRO", extra_archive_gb=1).status == "blocked"


def test_extra_archive_gb_on_a_plan_without_archive_is_archive_not_available() -> None:
    q = quote(mailbox(plan_code="STANDARD"), extra_archive_gb=1)
    assert q.status == "blocked"
    assert only_item(q).blocking_issues == (ArchiveNotAvailable(),)


def test_default_extra_space_is_what_the_mailbox_has_now() -> None:
    box = mailbox(plan_code="PREMIUM", extra_mailbox_gb=2, extra_archive_gb=3, used_mailbox_mb=10)
    q = quote(box, years=2)
    item = only_item(q)
    assert (item.extra_mailbox_gb, item.extra_archive_gb) == (2, 3)
    assert (item.mailbox_quota_mb, item.archive_quota_mb) == (4 * 1024, 11 * 1024)
    assert line_amounts(q) == [
        ("plan", 2, 4000, 8000),
        ("extra_mailbox_space", 4, 300, 1200),
        ("extra_archive_space", 6, 300, 1800),
    ]


def test_default_extra_space_is_capped_at_the_target_max_and_no_archive_gb_without_archive() -> (
    None
):
    box = mailbox(plan_code="PRO", extra_mailbox_gb=3, extra_archive_gb=2, used_mailbox_mb=500)
    q = quote(box, plan="STANDARD")
    item = only_item(q)
    assert (item.extra_mailbox_gb, item.extra_archive_gb) == (1, 0)
    assert item.archive_quota_mb == 0
    assert item.blocking_issues == ()
    assert line_amounts(q) == [("plan", 1, 990, 990), ("extra_mailbox_space", 1, 300, 300)]


# --- Rule 7: downgrades ------------------------------------------------------------------


def test_downgrade_to_standard_warns_archive_will_be_deleted() -> None:
    box = mailbox(plan_code="PRO", used_mailbox_mb=500, used_archive_mb=700)
    q = quote(box, plan="STANDARD")
    item = only_item(q)
    assert ArchiveWillBeDeleted(archived_mb=700) in item.warnings
    assert item.deletes_archive
    assert q.requires_archive_acknowledgement
    assert q.status == "ok"


def test_same_plan_renewal_does_not_delete_the_archive() -> None:
    q = quote(mailbox(plan_code="PRO", used_archive_mb=700))
    assert not q.requires_archive_acknowledgement
    assert codes(q) == []


def test_downgrade_pro_to_standard_warns_features_lost_sms_and_one_extra_user() -> None:
    q = quote(mailbox(plan_code="PRO", used_mailbox_mb=500), plan="STANDARD")
    item = only_item(q)
    assert FeaturesLost(features=("sms_reports", "extra_users"), extra_users_lost=1) in (
        item.warnings
    )
    assert not item.blocked


def test_downgrade_premium_to_pro_warns_features_lost_two_extra_users() -> None:
    q = quote(mailbox(plan_code="PREMIUM", used_mailbox_mb=500), plan="PRO")
    item = only_item(q)
    assert item.warnings == (FeaturesLost(features=("extra_users",), extra_users_lost=2),)
    assert q.status == "ok"
    assert not q.requires_archive_acknowledgement


def test_upgrade_warns_nothing() -> None:
    q = quote(mailbox(plan_code="STANDARD"), plan="PREMIUM")
    assert codes(q) == []
    assert q.net_cents == 4000


# --- Rule 8: prices ---------------------------------------------------------------------


def test_convention_discount_is_its_own_negative_line_rounded_half_up() -> None:
    fifteen = ConventionCode(
        "ORDINE-TEST", "15% off", Decimal("0.15"), date(2026, 1, 1), date(2026, 12, 31)
    )
    q = quote(years=1, convention="ORDINE-TEST", catalog=demo_price_list(conventions=(fifteen,)))
    # 15% of 9.90 = 1.485 → 1.49 (half-up; banker's rounding would give 1.48)
    assert line_amounts(q) == [("plan", 1, 990, 990), ("convention_discount", 1, -149, -149)]
    assert q.lines[-1].code == "ORDINE-TEST"
    assert q.lines[-1].mailbox_id is None
    assert q.convention_code == "ORDINE-TEST"
    assert (q.net_cents, q.vat_cents, q.total_cents) == (841, 185, 1026)


def test_convention_discount_covers_plan_and_extra_space_but_not_the_kit() -> None:
    box = mailbox(plan_code="PRO", extra_mailbox_gb=2, used_mailbox_mb=3000)
    q = quote(box, years=3, kit="SMART_CARD", convention="ORDINE-AVVOCATI")
    assert line_amounts(q) == [
        ("plan", 3, 2500, 7500),
        ("extra_mailbox_space", 6, 300, 1800),
        ("convention_discount", 1, -930, -930),
        ("signature_kit", 1, 2500, 2500),
        ("shipping", 1, 990, 990),
    ]
    assert q.net_cents == 9300 - 930 + 2500 + 990
    assert q.vat_cents == 2609  # 22% of 118.60 = 26.092
    assert q.total_cents == 11860 + 2609


def test_convention_code_is_read_case_insensitively() -> None:
    q = quote(convention=" ordine-avvocati ")
    assert q.convention_code == "ORDINE-AVVOCATI"
    assert q.net_cents == 990 - 99


def test_unknown_convention_code_is_convention_code_invalid() -> None:
    with pytest.raises(ConventionCodeInvalid) as caught:
        quote(convention="NO-SUCH-CODE")
    assert caught.value.code == "convention_code_invalid"
    assert caught.value.convention_code == "NO-SUCH-CODE"


def test_expired_convention_code_is_convention_code_invalid() -> None:
    later = datetime(2028, 1, 1, 9, 0, tzinfo=UTC)
    box = mailbox(expires_on=date(2028, 3, 31))
    with pytest.raises(ConventionCodeInvalid):
        quote(box, convention="ORDINE-AVVOCATI", now=later)


def test_signature_kit_and_shipping_are_charged_once_not_multiplied_by_years() -> None:
    q = quote(mailbox(plan_code="STANDARD"), years=3, kit="USB_TOKEN")
    assert line_amounts(q) == [
        ("plan", 3, 990, 2970),
        ("signature_kit", 1, 3500, 3500),
        ("shipping", 1, 990, 990),
    ]
    assert (q.net_cents, q.vat_cents, q.total_cents) == (7460, 1641, 9101)


def test_signature_kit_is_charged_once_per_order_not_per_mailbox() -> None:
    boxes = [mailbox(id=f"mbx-{n}") for n in range(3)]
    q = quote(*boxes, kit="SMART_CARD")
    assert [ln.kind for ln in q.lines].count("signature_kit") == 1
    assert [ln.kind for ln in q.lines].count("shipping") == 1


def test_unknown_signature_kit_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRenewalRequest) as caught:
        quote(kit="QUILL_PEN")
    assert [e.code for e in caught.value.errors] == ["unknown_signature_kit"]


def test_vat_is_computed_on_the_summed_net_not_per_line() -> None:
    boxes = [mailbox(id=f"mbx-{n}") for n in range(3)]
    q = quote(*boxes)
    # per line: 3 × round(2.178) = 6.54; on the sum: round(29.70 × 22%) = round(6.534) = 6.53
    assert [ln.amount_cents for ln in q.lines] == [990, 990, 990]
    assert (q.net_cents, q.vat_cents, q.total_cents) == (2970, 653, 3623)


def test_amounts_are_integer_cents_in_eur() -> None:
    q = quote(mailbox(plan_code="PRO", extra_mailbox_gb=1, used_mailbox_mb=10), kit="SMART_CARD")
    assert q.currency == "EUR"
    assert q.vat_rate == Decimal("0.22")
    for value in (q.net_cents, q.vat_cents, q.total_cents):
        assert type(value) is int
    for line in q.lines:
        assert type(line.amount_cents) is int
        assert type(line.unit_price_cents) is int


# --- Rule 9: validity -------------------------------------------------------------------


def test_quote_is_valid_for_24_hours_from_now_and_records_its_price_list() -> None:
    q = quote()
    assert q.created_at == NOW
    assert q.valid_until == NOW + timedelta(hours=24)
    assert q.is_valid_at(NOW + timedelta(hours=23, minutes=59))
    assert not q.is_valid_at(NOW + timedelta(hours=24))
    assert q.price_list_id == DEMO_PRICE_LIST_ID


# --- Expiry dates --------------------------------------------------------------------


def test_new_expiry_is_old_expiry_plus_years() -> None:
    q = quote(mailbox(expires_on=date(2026, 7, 31)), years=3)
    item = only_item(q)
    assert item.current_expiry == date(2026, 7, 31)
    assert item.new_expiry == date(2029, 7, 31)


def test_renewal_in_grace_does_not_gain_days() -> None:
    box = mailbox(expires_on=date(2026, 5, 31), status=MailboxStatus.EXPIRED)
    q = quote(box, years=1)
    item = only_item(q)
    assert item.status is MailboxStatus.EXPIRED
    assert item.new_expiry == date(2027, 5, 31)  # not today + 1 year
    assert q.status == "ok"


def test_mailbox_expiring_29_february_renewed_one_year_expires_28_february() -> None:
    now = datetime(2028, 2, 1, 12, 0, tzinfo=UTC)
    q = quote(mailbox(expires_on=date(2028, 2, 29)), years=1, now=now)
    assert only_item(q).new_expiry == date(2029, 2, 28)


# --- Request shape -------------------------------------------------------------------


def test_the_same_mailbox_twice_is_an_invalid_request() -> None:
    box = mailbox()
    request = RenewalRequest(1, (RenewalItem(box.id), RenewalItem(box.id)))
    with pytest.raises(InvalidRenewalRequest) as caught:
        quote_renewal(request, {box.id: box}, demo_price_list(), NOW)
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("items[1].mailbox_id", "duplicate_mailbox")
    ]


def test_up_to_99_mailboxes_in_one_request() -> None:
    boxes = [mailbox(id=f"mbx-{n}") for n in range(99)]
    assert quote(*boxes).net_cents == 99 * 990
    with pytest.raises(InvalidRenewalRequest) as caught:
        quote(*boxes, mailbox(id="mbx-99"))
    assert [e.code for e in caught.value.errors] == ["too_many_items"]


def test_unknown_mailbox_is_mailbox_not_found() -> None:
    request = RenewalRequest(1, (RenewalItem("mbx-ghost"),))
    with pytest.raises(MailboxNotFound) as caught:
        quote_renewal(request, {}, demo_price_list(), NOW)
    assert caught.value.mailbox_id == "mbx-ghost"


def test_a_blocked_mailbox_blocks_the_quote_but_others_are_still_quoted() -> None:
    fine = mailbox(id="mbx-ok")
    stuck = mailbox(id="mbx-auto", auto_renewal=True)
    q = quote(fine, stuck)
    assert q.status == "blocked"
    assert [item.blocked for item in q.items] == [False, True]
    assert q.net_cents == 2 * 990


# --- renewal_blockers (the mailbox endpoint's "Rinnova" button) -----------------------


def test_renewal_blockers_is_empty_for_a_renewable_mailbox() -> None:
    assert renewal_blockers(mailbox(), demo_price_list(), NOW, None) == ()


def test_renewal_blockers_lists_auto_renewal_and_pending_order() -> None:
    blockers = renewal_blockers(
        mailbox(auto_renewal=True), demo_price_list(), NOW, PendingOrderExists("ord-2026-0007")
    )
    assert blockers == (AutoRenewalActive(), PendingOrderExists(order_id="ord-2026-0007"))


def test_renewal_blockers_for_a_deleted_mailbox_is_mailbox_deleted() -> None:
    box = mailbox(expires_on=TODAY - timedelta(days=91))
    assert renewal_blockers(box, demo_price_list(), NOW, None) == (MailboxDeleted(),)


def test_renewal_blockers_reports_space_with_the_current_extra_space() -> None:
    full = mailbox(plan_code="PRO", extra_mailbox_gb=0, used_mailbox_mb=3000)
    assert renewal_blockers(full, demo_price_list(), NOW, None) == (
        InsufficientMailboxSpace(smallest_extra_mailbox_gb=1),
    )
    with_extra = replace(full, extra_mailbox_gb=1)
    assert renewal_blockers(with_extra, demo_price_list(), NOW, None) == ()


def test_renewal_blockers_for_a_one_year_renewal_ignores_the_promotion_limit() -> None:
    catalog = demo_price_list(promotions=(JUNE_PROMOTION,))
    assert renewal_blockers(mailbox(plan_code="PRO"), catalog, NOW, None) == ()


def test_a_mailbox_on_a_plan_no_longer_sold_is_not_renewable_until_staff_move_it() -> None:
    from datetime import UTC, date, datetime

    from app.domain.mailbox import Mailbox, MailboxStatus
    from app.domain.quote import renewal_blockers
    from app.sandbox.demo_catalog import demo_price_list

    retired = Mailbox(
        "mbx-old", "old@pec.it", "LEGACY", 0, 0, 100, 0, date(2027, 1, 10),
        MailboxStatus.ACTIVE, False, "acc-1",
    )  # fmt: skip

    blockers = renewal_blockers(
        retired, demo_price_list(), datetime(2026, 11, 25, tzinfo=UTC), pending_order=None
    )

    assert [issue.code for issue in blockers] == ["plan_not_in_price_list"]


def test_a_pending_order_id_is_shown_only_to_who_can_open_the_order() -> None:
    owner = Principal(Role.CUSTOMER, "acc-1")
    pending = PendingOrder("ord-2026-0007", owner)

    assert pending_order_seen_by(owner, pending) == PendingOrderExists("ord-2026-0007")
    assert visible_order_id(Principal(Role.STAFF, "staff-1"), pending) == "ord-2026-0007"
    assert visible_order_id(Principal(Role.PARTNER, "ptn-1"), pending) is None
    assert visible_order_id(Principal(Role.CUSTOMER, "acc-2"), pending) is None
    assert pending_order_seen_by(Principal(Role.PARTNER, "ptn-1"), pending) == PendingOrderExists()
