"""Pagination cursors: opaque to clients, checked here so a forged one is a 422.

Every list (orders, mailboxes, reconciliation) decodes through this module; whatever a
cursor holds that is not a position we could have handed out is `invalid_cursor` on the
field `cursor`, never a value that reaches the database (a year-1 timestamp east of UTC,
say, overflows the driver).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime

from app.routers.problems import ProblemError
from app.routers.v1.fields import is_identifier

_MAX_SEQ = 2**31 - 1  # orders.seq and payment_events.id are 32-bit serials


def invalid_cursor() -> ProblemError:
    return ProblemError(422, "invalid_cursor", errors=[("cursor", "invalid_cursor", {})])


def encode_order_cursor(before: tuple[datetime, int]) -> str:
    return _b64(f"{before[0].isoformat()}|{before[1]}")


def decode_order_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """(created_at in UTC, seq) of the last order of the previous page."""
    if cursor is None:
        return None
    try:
        moment, _, seq = _unb64(cursor).partition("|")
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed.astimezone(UTC), _sequence(seq)
    except (ValueError, OverflowError):
        raise invalid_cursor() from None


def encode_mailbox_cursor(after: tuple[date, str]) -> str:
    return _b64(f"{after[0].isoformat()}|{after[1]}")


def decode_mailbox_cursor(cursor: str | None) -> tuple[date, str] | None:
    """(expiry, id) of the last mailbox of the previous page."""
    if cursor is None:
        return None
    try:
        day, _, mailbox_id = _unb64(cursor).partition("|")
        if not is_identifier(mailbox_id):
            raise ValueError("not a mailbox id")
        return date.fromisoformat(day), mailbox_id
    except ValueError:
        raise invalid_cursor() from None


def decode_row_cursor(cursor: str | None) -> int | None:
    """The id of the last row of the previous page (a plain number)."""
    if cursor is None:
        return None
    try:
        return _sequence(cursor)
    except ValueError:
        raise invalid_cursor() from None


def _sequence(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 10 or int(text) > _MAX_SEQ:
        raise ValueError("not a sequence number")
    return int(text)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _unb64(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeError) as exc:
        raise ValueError("not base64") from exc
