"""The time-driven sweeps: what happens because a date came, not because someone called.

The worker runs every sweep on each pass (and the sandbox clock runs them at once when
it moves). Each sweep is idempotent and safe with N workers: it claims its work with row
locks or milestones (app/db/milestone_repository.py), so running it twice, or in two
processes at once, does each step once. A sweep returns how much it did, so the worker
knows whether to wait before the next pass.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.services import automatic_renewals, orders, plan_changes, tacit_renewals
from app.services.automatic_renewals import AutoRenewalSetup
from app.services.mailbox_lifecycle import sweep_mailbox_lifecycle
from app.services.unit_of_work import UowFactory

log = logging.getLogger("app.sweeps")


@dataclass(frozen=True, slots=True)
class SweepContext:
    """What a sweep may use: storage and the moment it runs at."""

    uow_factory: UowFactory
    now: datetime
    auto_renewal: AutoRenewalSetup | None = None  # None: no automatic charges this pass


Sweep = Callable[[SweepContext], Awaitable[int]]


async def expire_unpaid_orders(context: SweepContext) -> int:
    return await orders.expire_unpaid_orders(context.uow_factory(), context.now)


async def mailbox_lifecycle(context: SweepContext) -> int:
    return await sweep_mailbox_lifecycle(context.uow_factory, context.now)


async def renew_automatically(context: SweepContext) -> int:
    if context.auto_renewal is None:
        return 0
    return await automatic_renewals.renew_automatically(
        context.uow_factory, context.auto_renewal, context.now
    )


# In the order they run: what a later sweep reads may have been changed by an earlier one.
SWEEPS: tuple[tuple[str, Sweep], ...] = (
    ("expire_unpaid_orders", expire_unpaid_orders),
    ("apply_due_plan_changes", plan_changes.sweep),
    # Renewals before reminders: a mailbox renewed today is not reminded that it expires.
    ("renew_automatically", renew_automatically),
    ("tacit_renewals", tacit_renewals.tacit_renewals),
    ("mailbox_lifecycle", mailbox_lifecycle),
)


async def run_sweeps(
    context: SweepContext, sweeps: Sequence[tuple[str, Sweep]] = SWEEPS
) -> dict[str, int]:
    """Run each sweep once; one that fails is logged and retried on the next pass, and
    doesn't keep the others from running."""
    done: dict[str, int] = {}
    for name, sweep in sweeps:
        try:
            done[name] = await sweep(context)
        except Exception:
            log.exception("sweep failed", extra={"sweep": name})
            done[name] = 0
    return done
