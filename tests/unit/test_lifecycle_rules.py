"""The lifecycle's milestones as a holder lives them: each reminder once, in order, on its
day; a late sweep sends the latest one only; deletion on day 91, whenever the sweep runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import lifecycle
from app.domain.lifecycle import (
    DELETION,
    EXPIRY_DAY,
    GRACE_60,
    MILESTONES,
    REMINDER_7,
    REMINDER_15,
    REMINDER_30,
    REMINDER_90,
    due_milestone,
    takes_part,
)
from app.domain.mailbox import MailboxStatus
from app.services.lifecycle_email import lifecycle_email
from tests.unit.builders import mailbox

EXPIRY = date(2027, 3, 31)
DAY = timedelta(days=1)


def sweep(expiry: date, days: list[date]) -> list[tuple[date, str]]:
    """What sweeps on `days` send, remembering what was sent (as the claims do)."""
    reached: set[str] = set()
    sent = []
    for today in days:
        milestone = due_milestone(expiry, today, reached)
        if milestone is not None:
            reached.add(milestone.name)
            sent.append((today, milestone.name))
    return sent


def test_sweeping_every_day_sends_each_milestone_once_on_its_day() -> None:
    year = [EXPIRY - timedelta(days=120) + n * DAY for n in range(400)]

    sent = sweep(EXPIRY, year)

    assert sent == [(EXPIRY + timedelta(days=m.day), m.name) for m in MILESTONES]
    assert sent[-1] == (date(2027, 6, 30), "lifecycle_deletion")  # day 91


def test_a_sweep_that_runs_late_sends_only_the_latest_reminder_due() -> None:
    # the worker was down from 100 days before expiry until 10 days before it
    assert sweep(EXPIRY, [EXPIRY - timedelta(days=10)]) == [
        (EXPIRY - timedelta(days=10), REMINDER_15.name)
    ]


def test_deletion_happens_however_late_the_sweep_and_only_once() -> None:
    late = [EXPIRY + timedelta(days=500), EXPIRY + timedelta(days=501)]
    assert sweep(EXPIRY, late) == [(late[0], DELETION.name)]


def test_nothing_is_due_before_90_days_or_after_a_later_milestone() -> None:
    assert due_milestone(EXPIRY, EXPIRY - timedelta(days=91)) is None
    assert due_milestone(EXPIRY, EXPIRY - timedelta(days=89), {REMINDER_30.name}) is None
    assert due_milestone(EXPIRY, EXPIRY - timedelta(days=89)) is REMINDER_90


def test_a_pending_order_holds_back_the_reminders_before_expiry_only() -> None:
    assert due_milestone(EXPIRY, EXPIRY - timedelta(days=7), order_pending=True) is None
    assert due_milestone(EXPIRY, EXPIRY, order_pending=True) is EXPIRY_DAY
    assert due_milestone(EXPIRY, EXPIRY + 65 * DAY, order_pending=True) is GRACE_60
    assert due_milestone(EXPIRY, EXPIRY + 91 * DAY, order_pending=True) is DELETION


def test_automatic_renewal_suspended_and_deleted_mailboxes_are_not_in_the_lifecycle() -> None:
    assert takes_part(mailbox())
    assert takes_part(mailbox(status=MailboxStatus.EXPIRED))
    assert not takes_part(mailbox(auto_renewal=True))
    assert not takes_part(mailbox(status=MailboxStatus.SUSPENDED))
    assert not takes_part(mailbox(status=MailboxStatus.DELETED))


@given(
    expiry=st.dates(date(2025, 1, 1), date(2030, 12, 31)),
    offsets=st.sets(st.integers(-150, 400), max_size=60),
)
def test_sweeping_on_any_days_never_sends_one_twice_and_keeps_the_order(
    expiry: date, offsets: set[int]
) -> None:
    days = [expiry + timedelta(days=n) for n in sorted(offsets)]

    names = [name for _, name in sweep(expiry, days)]

    assert len(names) == len(set(names))
    order = [m.name for m in MILESTONES]
    assert names == sorted(names, key=order.index)
    if any(n >= DELETION.day for n in offsets):
        assert names[-1] == DELETION.name  # once due, deletion always happens


@given(
    expiry=st.dates(date(2025, 1, 1), date(2030, 12, 31)),
    offset=st.integers(-400, 600),
)
def test_the_windows_the_sweep_queries_hold_exactly_the_due_milestone(
    expiry: date, offset: int
) -> None:
    today = expiry + timedelta(days=offset)

    in_windows = [
        w.milestone
        for w in lifecycle.windows(today)
        if (w.earliest_expiry is None or w.earliest_expiry <= expiry) and expiry <= w.latest_expiry
    ]

    due = due_milestone(expiry, today)
    assert in_windows == ([] if due is None else [due])


@pytest.mark.parametrize(
    ("milestone", "language", "subject", "phrases"),
    [
        (
            REMINDER_7,
            "it",
            "La casella PEC mario.rossi@pec.example.it scade il 31/03/2027",
            ["tra 7 giorni", "non ha il rinnovo automatico"],
        ),
        (
            EXPIRY_DAY,
            "en",
            "Your PEC mailbox mario.rossi@pec.example.it expires today",
            ["until 29/06/2027", "on 30/06/2027 it will be deleted"],
        ),
        (
            GRACE_60,
            "it",
            "La casella PEC mario.rossi@pec.example.it è scaduta: rinnovala entro il 29/06/2027",
            ["è scaduta il 31/03/2027", "il 30/06/2027 sarà cancellata"],
        ),
        (
            DELETION,
            "en",
            "Your PEC mailbox mario.rossi@pec.example.it has been deleted",
            ["was deleted today, 30/06/2027", "can no longer be renewed"],
        ),
    ],
)
def test_lifecycle_emails_say_the_dates_the_italian_way(
    milestone: lifecycle.LifecycleMilestone, language: str, subject: str, phrases: list[str]
) -> None:
    today = EXPIRY + timedelta(days=milestone.day)
    message = lifecycle_email(
        language=language,
        milestone=milestone,
        mailbox_id="mbx-1",
        address="mario.rossi@pec.example.it",
        expires_on=EXPIRY,
        today=today,
        holder_name="Mario Rossi",
        to="mario@example.it",
        order_pending=False,
    )
    assert message["subject"] == subject
    assert message["text"].startswith("Gentile Mario Rossi," if language == "it" else "Dear")
    for phrase in phrases:
        assert phrase in message["text"]
    assert message["milestone"] == milestone.name
    assert message["mailbox_id"] == "mbx-1"


def test_a_reminder_in_the_grace_mentions_the_order_awaiting_payment() -> None:
    base = {
        "language": "it",
        "milestone": GRACE_60,
        "mailbox_id": "mbx-1",
        "address": "a@pec.example.it",
        "expires_on": EXPIRY,
        "today": EXPIRY + 60 * DAY,
        "holder_name": "Mario Rossi",
        "to": "mario@example.it",
    }
    pending = lifecycle_email(**base, order_pending=True)  # type: ignore[arg-type]
    quiet = lifecycle_email(**base, order_pending=False)  # type: ignore[arg-type]
    assert "pagamento non è ancora registrato" in pending["text"]
    assert "pagamento" not in quiet["text"]


def test_a_renewal_starts_the_milestones_over() -> None:
    renewed = replace(mailbox(), expires_on=EXPIRY + timedelta(days=365))
    # the old expiry's reminders were all sent; the new one's 90-day reminder is due again
    reached = {m.name for m in MILESTONES[:4]}
    today = renewed.expires_on - timedelta(days=90)
    assert due_milestone(renewed.expires_on, today, ()) is REMINDER_90
    assert due_milestone(EXPIRY, EXPIRY - 5 * DAY, reached) is None
