"""Moving the sandbox's test clock: the time-driven sweeps run as the days go by.

`PUT /v1/sandbox/clock` (api.md, Sandbox) moves the clock forward a day at a time and,
at each day and at the new "now", runs one worker pass after another (payment retries,
the sweeps, the outbox delivery: exactly what app/worker.py run_once does) until there
is nothing left to do — as Stripe's test clocks do: jumping a year shows every reminder
of the year, each sent on its day, not only the last one. Moves are one at a time, at
most MAX_DAYS long. What the move did is read back from the milestones reached and the
messages queued meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from app.clock import ClockJumpTooFar, TestClock
from app.container import Container
from app.services.outbox_delivery import Deliverers
from app.services.payment_charger import PaymentCharger
from app.worker import deliverers, payment_charger, run_once

MAX_DAYS = 1_100  # three years: a mailbox's longest cycle, from 90 days before to deletion
PASSES = 1_000  # a bound on the worker passes run at one moment


@dataclass(frozen=True, slots=True)
class ClockMove:
    """What moving the clock did: how many worker passes found work, at how many moments."""

    previous: datetime
    now: datetime
    moments: int
    work_done: int


def test_clock(container: Container) -> TestClock:
    """The sandbox container's clock (build_container makes it a TestClock there)."""
    clock = container.clock
    if not isinstance(clock, TestClock):
        raise TypeError("not a sandbox container: its clock doesn't move")
    return clock


async def move_clock(container: Container, moment: datetime) -> ClockMove:
    """Move the clock to `moment` (ClockWentBack, ClockJumpTooFar), sweeping on the way."""
    clock = test_clock(container)
    async with clock.moving:
        previous = clock()
        if moment < previous:
            clock.move_to(moment)  # raises ClockWentBack, saying where the clock stands
        if moment - previous > timedelta(days=MAX_DAYS):
            raise ClockJumpTooFar(MAX_DAYS)
        moments = work = 0
        async with httpx.AsyncClient() as http:
            senders = deliverers(container, http)
            charger = payment_charger(container, http)  # the sandbox pays itself
            step = previous
            while step < moment:
                step = min(step + timedelta(days=1), moment)
                clock.move_to(step)
                work += await _passes(container, senders, charger)
                moments += 1
        return ClockMove(previous, moment, moments, work)


async def _passes(container: Container, senders: Deliverers, charger: PaymentCharger | None) -> int:
    """Worker passes at the clock's now until one finds nothing to do."""
    done = 0
    for _ in range(PASSES):
        busy = await run_once(container, senders, charger)
        if not busy:
            break
        done += busy
    return done
