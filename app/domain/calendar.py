"""Calendar arithmetic for expiry dates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

ITALY = ZoneInfo("Europe/Rome")


def add_years(day: date, years: int) -> date:
    """The same day `years` calendar years later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 Feb into a non-leap year
        return day.replace(year=day.year + years, day=28)


def italian_date(moment: datetime) -> date:
    """The calendar day in Italy at `moment`: expiry and grace are Italian days."""
    return moment.astimezone(ITALY).date()
