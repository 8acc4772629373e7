"""The one place that reads the wall clock; everything below it takes `now` as an argument."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.domain.errors import DomainError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class ClockWentBack(DomainError):
    """A test clock only moves forward: what already happened can't un-happen."""

    code = "clock_backwards"

    def __init__(self, now: datetime) -> None:
        super().__init__(now.isoformat())
        self.now = now.isoformat()


class ClockJumpTooFar(DomainError):
    """A test clock moves at most MAX_MOVE_DAYS at once: the days crossed are each run."""

    code = "clock_jump_too_far"

    def __init__(self, max_days: int) -> None:
        super().__init__(f"at most {max_days} days")
        self.max_days = max_days


class TestClock:
    """The sandbox's clock: the system clock plus an offset that only grows.

    `PUT /v1/sandbox/clock` moves it (a test clock, as Stripe has), so the lifecycle
    of a mailbox can be watched over HTTP in minutes instead of months. It lives in
    the process: a restarted sandbox starts again from the real date.
    """

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, base: Clock = system_clock) -> None:
        self._base = base
        self.offset = timedelta(0)
        self.moving = asyncio.Lock()  # one move at a time (app/sandbox/test_clock.py)

    def __call__(self) -> datetime:
        return self._base() + self.offset

    def move_to(self, moment: datetime) -> None:
        """Make `moment` the clock's now; ClockWentBack if it is before the current now."""
        now = self()
        if moment < now:
            raise ClockWentBack(now)
        self.offset = moment - self._base()
