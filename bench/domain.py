"""Domain speed: `quote_renewal` calls per second on one core, no I/O, no framework."""

from __future__ import annotations

import timeit
from collections.abc import Callable
from datetime import UTC, datetime

from app.domain.calendar import italian_date
from app.domain.quote import RenewalItem, RenewalRequest, quote_renewal
from app.sandbox.demo_catalog import demo_price_list
from app.sandbox.seed import DEMO_MAILBOXES, demo_mailbox, demo_promotions

FIXED_NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def best_rate(call: Callable[[], object], repeats: int) -> float:
    """Calls per second, timeit-style: the best of `repeats` runs of ~0.2 s each."""
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return number / min(timer.repeat(repeat=repeats, number=number))


def domain_rates(repeats: int = 7) -> tuple[float, float]:
    """Quotes per second for 1 mailbox and for 10 (the demo price list, a fixed now)."""
    now = FIXED_NOW
    today = italian_date(now)
    catalog = demo_price_list(promotions=demo_promotions(today))
    # Ten mailboxes of one account's worth of rules: every demo mailbox but another
    # account's (plain, upgrades/downgrades, promotion, grace, deleted, suspended...).
    ten = [demo for demo in DEMO_MAILBOXES if demo.id != "mbx-bianchi"][:10]
    if len(ten) != 10:
        raise RuntimeError("the demo has fewer than 10 mailboxes")
    mailboxes = {demo.id: demo_mailbox(demo, today) for demo in DEMO_MAILBOXES}
    one = RenewalRequest(years=1, items=(RenewalItem("mbx-standard"),))
    many = RenewalRequest(years=1, items=tuple(RenewalItem(demo.id) for demo in ten))
    return (
        best_rate(lambda: quote_renewal(one, mailboxes, catalog, now), repeats),
        best_rate(lambda: quote_renewal(many, mailboxes, catalog, now), repeats),
    )
