"""When a payment event that failed to apply is tried again, and when a person must look.

A failure to apply (a dropped connection, a deadlock, a bug) says nothing about the
money: the event is tried again with exponential backoff, and only one that has kept
failing for a whole day goes to reconciliation. Pure: `now` comes in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

GIVE_UP_AFTER = timedelta(hours=24)
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=1)


def next_attempt(attempts: int, first_failed_at: datetime, now: datetime) -> datetime | None:
    """When to try again after `attempts` failures; None once it has failed for 24 hours."""
    if now - first_failed_at >= GIVE_UP_AFTER:
        return None
    delay = min(FIRST_DELAY * (1 << min(max(attempts - 1, 0), 16)), LONGEST_DELAY)
    return now + delay
