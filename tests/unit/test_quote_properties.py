"""Properties of quote_renewal over the demo price list (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from app.domain.catalog import MB_PER_GB, Promotion
from app.domain.issues import InsufficientArchiveSpace, InsufficientMailboxSpace
from app.domain.mailbox import Mailbox, MailboxStatus
from app.domain.quote import MAX_EXTRA_GB, Quote, RenewalItem, RenewalRequest, quote_renewal
from app.sandbox.demo_catalog import demo_price_list

NOW = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)
CATALOG = demo_price_list()
PROMO_CATALOG = demo_price_list(
    promotions=(Promotion("PRO", 1900, date(2026, 6, 1), date(2026, 6, 30)),)
)
PLAN_CODES = sorted(CATALOG.plans)
KITS = [None, *sorted(CATALOG.signature_kits)]


def independent_vat(net_cents: int) -> int:
    """22% of the net, in euros, rounded half-up to the cent — without app.domain.money."""
    euros = Decimal(net_cents) / Decimal(100)
    vat = (euros * Decimal("0.22")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(vat * 100)


# --- strategies ---------------------------------------------------------------------


@st.composite
def mailboxes(draw: st.DrawFn, mailbox_id: str = "mbx-1") -> Mailbox:
    return Mailbox(
        id=mailbox_id,
        address=f"{mailbox_id}@pec.example.it",
        plan_code=draw(st.sampled_from(PLAN_CODES)),
        extra_mailbox_gb=draw(st.integers(0, 6)),
        extra_archive_gb=draw(st.integers(0, 6)),
        used_mailbox_mb=draw(st.integers(0, 12 * MB_PER_GB)),
        used_archive_mb=draw(st.integers(0, 16 * MB_PER_GB)),
        expires_on=NOW.date() + timedelta(days=draw(st.integers(-120, 400))),
        status=draw(st.sampled_from(list(MailboxStatus))),
        auto_renewal=draw(st.booleans()),
        account_id="acc-1",
    )


optional_gb = st.none() | st.integers(0, 6)
Scenario = tuple[RenewalRequest, dict[str, Mailbox]]  # a request and its mailboxes by id


@st.composite
def items_for(draw: st.DrawFn, mailbox: Mailbox) -> RenewalItem:
    return RenewalItem(
        mailbox.id,
        draw(st.none() | st.sampled_from(PLAN_CODES)),
        draw(optional_gb),
        draw(optional_gb),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    count = draw(st.integers(1, 4))
    boxes = [draw(mailboxes(f"mbx-{n}")) for n in range(count)]
    items = tuple(draw(items_for(box)) for box in boxes)
    request = RenewalRequest(
        years=draw(st.integers(1, 5)),
        items=items,
        signature_kit=draw(st.sampled_from(KITS)),
        convention_code=draw(st.sampled_from([None, "ORDINE-AVVOCATI"])),
    )
    return request, {box.id: box for box in boxes}


def renewable_mailbox(plan_code: str, used_mailbox_mb: int, used_archive_mb: int) -> Mailbox:
    """ACTIVE, no auto renewal, no extra space: only space can block it."""
    return Mailbox(
        id="mbx-1",
        address="mbx-1@pec.example.it",
        plan_code=plan_code,
        extra_mailbox_gb=0,
        extra_archive_gb=0,
        used_mailbox_mb=used_mailbox_mb,
        used_archive_mb=used_archive_mb,
        expires_on=date(2026, 7, 31),
        status=MailboxStatus.ACTIVE,
        auto_renewal=False,
        account_id="acc-1",
    )


def quote_one(box: Mailbox, item: RenewalItem, years: int = 1) -> Quote:
    return quote_renewal(RenewalRequest(years, (item,)), {box.id: box}, CATALOG, NOW)


def blocking_codes(q: Quote) -> list[str]:
    return [issue.code for item in q.items for issue in item.blocking_issues]


# --- totals ---------------------------------------------------------------------------


@given(scenarios())
def test_total_is_net_plus_vat_and_net_is_the_sum_of_the_lines(scenario: Scenario) -> None:
    request, boxes = scenario
    q = quote_renewal(request, boxes, CATALOG, NOW)
    assert q.net_cents == sum(line.amount_cents for line in q.lines)
    assert q.total_cents == q.net_cents + q.vat_cents


@given(scenarios())
def test_vat_is_22_percent_of_the_net_rounded_half_up(scenario: Scenario) -> None:
    request, boxes = scenario
    q = quote_renewal(request, boxes, CATALOG, NOW)
    assert q.vat_cents == independent_vat(q.net_cents)


@given(scenarios())
def test_lines_and_amounts_never_contain_floats(scenario: Scenario) -> None:
    request, boxes = scenario
    q = quote_renewal(request, boxes, CATALOG, NOW)
    for line in q.lines:
        for name, value in line._asdict().items():
            assert not isinstance(value, float), name
        assert type(line.amount_cents) is int
        assert type(line.unit_price_cents) is int
        assert type(line.quantity) is int
    for amount in (q.net_cents, q.vat_cents, q.total_cents):
        assert type(amount) is int


@given(scenarios())
def test_the_quote_is_deterministic(scenario: Scenario) -> None:
    request, boxes = scenario
    assert quote_renewal(request, boxes, CATALOG, NOW) == quote_renewal(
        request, boxes, CATALOG, NOW
    )


@given(scenarios(), st.integers(1, 5), st.integers(1, 5))
def test_price_grows_strictly_with_years(scenario: Scenario, years_a: int, years_b: int) -> None:
    assume(years_a != years_b)
    shorter, longer = sorted((years_a, years_b))
    request, boxes = scenario
    short_q = quote_renewal(
        RenewalRequest(shorter, request.items, request.signature_kit, request.convention_code),
        boxes,
        CATALOG,
        NOW,
    )
    long_q = quote_renewal(
        RenewalRequest(longer, request.items, request.signature_kit, request.convention_code),
        boxes,
        CATALOG,
        NOW,
    )
    assert long_q.net_cents > short_q.net_cents
    assert long_q.total_cents > short_q.total_cents


# --- blocking -------------------------------------------------------------------------


@given(scenarios())
def test_a_quote_is_blocked_exactly_when_some_issue_blocks(scenario: Scenario) -> None:
    request, boxes = scenario
    q = quote_renewal(request, boxes, PROMO_CATALOG, NOW)
    any_blocking = any(issue.blocking for item in q.items for issue in item.issues)
    assert q.status == ("blocked" if any_blocking else "ok")


@given(
    current=st.sampled_from(["PRO", "PREMIUM"]),
    target=st.sampled_from(["STANDARD", "PRO"]),
    used_mailbox_mb=st.integers(0, 2 * MB_PER_GB),
    used_archive_mb=st.integers(0, 3 * MB_PER_GB),
    years=st.integers(1, 5),
)
def test_warnings_never_block(
    current: str, target: str, used_mailbox_mb: int, used_archive_mb: int, years: int
) -> None:
    assume(current != target)
    box = renewable_mailbox(current, used_mailbox_mb, used_archive_mb)
    extra = 1 if target == "STANDARD" and used_mailbox_mb > MB_PER_GB else 0
    q = quote_one(box, RenewalItem(box.id, target, extra, 0), years)
    item = q.items[0]
    assert item.warnings  # a downgrade always warns (archive and/or features)
    assert item.blocking_issues == ()
    assert q.status == "ok"


# --- the suggested extra space fits, one GB less does not ------------------------------------


@st.composite
def mailbox_space_shortfalls(draw: st.DrawFn) -> tuple[Mailbox, str]:
    """A renewable mailbox whose used space only exceeds the target's base quota."""
    target = draw(st.sampled_from(["STANDARD", "PRO", "PREMIUM"]))
    plan = CATALOG.plans[target]
    max_gb = plan.max_mailbox_gb or plan.mailbox_gb + MAX_EXTRA_GB
    used = draw(st.integers(plan.mailbox_gb * MB_PER_GB + 1, max_gb * MB_PER_GB))
    current = draw(st.sampled_from(["STANDARD", "PRO", "PREMIUM"]))
    return renewable_mailbox(current, used, used_archive_mb=0), target


@given(mailbox_space_shortfalls())
def test_smallest_extra_mailbox_gb_fits_and_one_gb_less_does_not(case: tuple[Mailbox, str]) -> None:
    box, target = case
    q = quote_one(box, RenewalItem(box.id, target, 0, 0))
    [issue] = q.items[0].blocking_issues
    assert issue.code == "insufficient_mailbox_space"
    assert isinstance(issue, InsufficientMailboxSpace)  # for mypy: the code names the class
    smallest = issue.smallest_extra_mailbox_gb
    assert smallest >= 1

    fits = quote_one(box, RenewalItem(box.id, target, smallest, 0))
    assert fits.status == "ok"
    assert fits.items[0].mailbox_quota_mb >= box.used_mailbox_mb

    one_less = quote_one(box, RenewalItem(box.id, target, smallest - 1, 0))
    assert blocking_codes(one_less) == ["insufficient_mailbox_space"]


@st.composite
def archive_space_shortfalls(draw: st.DrawFn) -> tuple[Mailbox, str]:
    """A renewable mailbox whose archive only exceeds the target's base archive."""
    target = draw(st.sampled_from(["PRO", "PREMIUM"]))
    plan = CATALOG.plans[target]
    archived = draw(
        st.integers(plan.archive_gb * MB_PER_GB + 1, (plan.archive_gb + MAX_EXTRA_GB) * MB_PER_GB)
    )
    used = draw(st.integers(0, plan.mailbox_gb * MB_PER_GB))
    current = draw(st.sampled_from(["PRO", "PREMIUM"]))
    return renewable_mailbox(current, used, archived), target


@given(archive_space_shortfalls())
def test_smallest_extra_archive_gb_fits_and_one_gb_less_does_not(case: tuple[Mailbox, str]) -> None:
    box, target = case
    q = quote_one(box, RenewalItem(box.id, target, 0, 0))
    [issue] = q.items[0].blocking_issues
    assert issue.code == "insufficient_archive_space"
    assert isinstance(issue, InsufficientArchiveSpace)  # for mypy: the code names the class
    smallest = issue.smallest_extra_archive_gb
    assert smallest >= 1

    fits = quote_one(box, RenewalItem(box.id, target, 0, smallest))
    assert fits.status == "ok"
    assert fits.items[0].archive_quota_mb >= box.used_archive_mb

    one_less = quote_one(box, RenewalItem(box.id, target, 0, smallest - 1))
    assert blocking_codes(one_less) == ["insufficient_archive_space"]
