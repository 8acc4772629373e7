"""The sandbox's test clock and log, as a frontend sees them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.calendar import italian_date
from app.routers.v1.fields import TIMESTAMP_IN_RANGE
from app.services.confirmation_email import EMAIL, worded
from app.services.sandbox_log import Activity, LoggedMessage

CLOCK_EXAMPLE: JsonDict = {
    "now": "2027-01-24T10:00:00Z",
    "today": "2027-01-24",
    "ahead_by_seconds": 5270400,
}
CLOCK_MOVE_EXAMPLE: JsonDict = {
    **CLOCK_EXAMPLE,
    "previous_now": "2026-11-25T10:00:00Z",
    "days_run": 61,
    "work_done": 9,
    "milestones": {"lifecycle_reminder_-30": 1, "lifecycle_reminder_-15": 1},
    "queued": {"email": 2},
}
MESSAGE_EXAMPLE: JsonDict = {
    "id": 12,
    "kind": "email",
    "queued_at": "2026-12-25T10:00:00Z",
    "delivered_at": "2026-12-25T10:00:00Z",
    "attempts": 1,
    "last_error": None,
    "to": "mario.rossi@example.it",
    "subject": "La casella PEC premium@pec.example.it scade il 24/01/2027",
    "text": "Gentile Mario Rossi,\n\nla casella PEC premium@pec.example.it scade il ...",
    "milestone": "lifecycle_reminder_-30",
    "action": None,
    "event_type": None,
    "payload": {"to": "mario.rossi@example.it", "milestone": "lifecycle_reminder_-30"},
}


class ClockIn(BaseModel):
    """Where to move the sandbox's clock: forward only."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"now": "2027-01-24T10:00:00Z"}]},
    )

    now: AwareDatetime = Field(
        strict=False,
        ge=datetime(2000, 1, 1, tzinfo=UTC),
        le=datetime(2199, 12, 31, tzinfo=UTC),
        json_schema_extra=TIMESTAMP_IN_RANGE,
        description="The new now: a timestamp with its offset, not before the clock's now "
        "and at most 1100 days after it.",
    )


class ClockOut(BaseModel):
    """Where the sandbox's clock stands."""

    model_config = ConfigDict(json_schema_extra={"examples": [CLOCK_EXAMPLE]})

    now: datetime = Field(description="The sandbox's now (UTC): what every operation sees.")
    today: date = Field(description="The day it is in Italy: expiries and grace count it.")
    ahead_by_seconds: int = Field(description="How far the clock is ahead of the real time.")

    @classmethod
    def at(cls, now: datetime, ahead: timedelta) -> ClockOut:
        return cls(now=now, today=italian_date(now), ahead_by_seconds=round(ahead.total_seconds()))


class ClockMoveOut(ClockOut):
    """Where the clock stands after a move, and what the time-driven work did meanwhile."""

    model_config = ConfigDict(json_schema_extra={"examples": [CLOCK_MOVE_EXAMPLE]})

    previous_now: datetime = Field(description="Where the clock stood before the move.")
    days_run: int = Field(description="The moments the worker ran at: one a day, and now.")
    work_done: int = Field(
        description="What the worker passes did: sweep steps taken, messages delivered or "
        "failed, payment events retried."
    )
    milestones: dict[str, int] = Field(
        description="Lifecycle and renewal milestones reached during the move, by name."
    )
    queued: dict[str, int] = Field(
        description="Messages queued during the move, by kind (`email`, `mail_platform`, "
        "`partner_webhook`)."
    )

    @classmethod
    def of(
        cls,
        previous: datetime,
        now: datetime,
        ahead: timedelta,
        days: int,
        work: int,
        done: Activity,
    ) -> ClockMoveOut:
        clock = ClockOut.at(now, ahead)
        return cls(
            **clock.model_dump(),
            previous_now=previous,
            days_run=days,
            work_done=work,
            milestones=done.milestones,
            queued=done.queued,
        )


class SandboxMessageOut(BaseModel):
    """A message the service sent, or would send, about a mailbox (from the outbox)."""

    model_config = ConfigDict(json_schema_extra={"examples": [MESSAGE_EXAMPLE]})

    id: int = Field(description="The message's place in the outbox: later is larger.")
    kind: str = Field(
        description="`email`, `mail_platform` (a call to the mail platform) or "
        "`partner_webhook` (an event for the partner)."
    )
    queued_at: datetime = Field(description="When it was queued (the sandbox's clock).")
    delivered_at: datetime | None = Field(
        description="When it was delivered (in the sandbox: written to the log); null: not yet."
    )
    attempts: int = Field(description="Delivery attempts so far.")
    last_error: str | None = Field(description="Why the last attempt failed, if it did.")
    to: str | None = Field(description="`email`: the recipient.")
    subject: str | None = Field(description="`email`: the subject.")
    text: str | None = Field(description="`email`: the plain-text body.")
    milestone: str | None = Field(description="The lifecycle milestone that sent it, if one did.")
    action: str | None = Field(
        description="`mail_platform`: `renewal`, `plan_change` or `deletion`."
    )
    event_type: str | None = Field(
        description="`partner_webhook`: the event's type (`mailbox.expiring`, …)."
    )
    payload: dict[str, Any] = Field(
        description="The whole message as queued (an order confirmation: the facts its "
        "template words, which `subject` and `text` show worded)."
    )

    @classmethod
    def of(cls, message: LoggedMessage) -> SandboxMessageOut:
        # An email queued as facts shows the subject and text it is sent with.
        sent = worded(message.payload) if message.kind == EMAIL else message.payload

        def text_of(name: str) -> str | None:
            value = sent.get(name)
            return value if isinstance(value, str) else None

        return cls(
            id=message.id,
            kind=message.kind,
            queued_at=message.queued_at,
            delivered_at=message.delivered_at,
            attempts=message.attempts,
            last_error=message.last_error,
            to=text_of("to"),
            subject=text_of("subject"),
            text=text_of("text"),
            milestone=text_of("milestone"),
            action=(text_of("action") or "renewal") if message.kind == "mail_platform" else None,
            event_type=text_of("type") if message.kind == "partner_webhook" else None,
            payload=message.payload,
        )


class SandboxMessagesOut(BaseModel):
    """What was sent about a mailbox, oldest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [MESSAGE_EXAMPLE]}]})

    items: list[SandboxMessageOut] = Field(description="The messages, oldest first.")
