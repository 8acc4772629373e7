"""Calendar arithmetic for expiry dates."""

from __future__ import annotations

from datetime import date


def add_years(day: date, years: int) -> date:
    """The same day `years` calendar years later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 Feb into a non-leap year
        return day.replace(year=day.year + years, day=28)
