"""Two workers sweeping the lifecycle at once over 1,000 mailboxes, on PostgreSQL.

Each worker has its own engine (a separate process would): they read the same due
mailboxes, and the row locks and the milestone claims decide who takes each step.
Counted in SQL afterwards: every milestone the rules make due was taken exactly once,
with exactly one email, and each deletion told the platform once and the partner once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import insert, text

from app.container import Container, build_container
from app.db.mappers import mailbox_to_values
from app.db.models import MailboxRow
from app.domain.calendar import italian_date
from app.domain.lifecycle import due_milestone, takes_part
from app.domain.mailbox import Mailbox, MailboxStatus
from app.services.mailbox_lifecycle import sweep_mailbox_lifecycle
from tests.conftest import START
from tests.unit.builders import mailbox

pytestmark = pytest.mark.db
COUNT = 1_000
MOMENTS = [START, START + timedelta(days=15), START + timedelta(days=40)]


def _mailboxes() -> list[Mailbox]:
    today = italian_date(START)
    return [
        mailbox(
            id=f"mbx-{n:04d}",
            address=f"box{n:04d}@pec.example.it",
            expires_on=today + timedelta(days=(n * 7) % 400 - 200),
            account_id="acc-1" if n % 2 else "acc-p",
            partner_id="ptn-1" if n % 10 == 0 else None,
            auto_renewal=n % 13 == 0,
            status=MailboxStatus.SUSPENDED if n % 50 == 1 else MailboxStatus.ACTIVE,
        )
        for n in range(COUNT)
    ]


def _expected(boxes: list[Mailbox]) -> Counter[str]:
    """What the rules make due at MOMENTS, each milestone once per mailbox."""
    expected: Counter[str] = Counter()
    for box in boxes:
        if not takes_part(box):
            continue
        reached: set[str] = set()
        for moment in MOMENTS:
            milestone = due_milestone(box.expires_on, italian_date(moment), reached)
            if milestone is not None:
                reached.add(milestone.name)
                expected[milestone.name] += 1
            if milestone is not None and milestone.is_deletion:
                break
    return expected


@pytest.fixture
async def second_worker(db: Container) -> AsyncIterator[Container]:
    settings = db.settings.model_copy(update={"database_pool_size": 3, "database_max_overflow": 0})
    other = build_container(settings)
    yield other
    await other.close()


async def test_two_workers_take_every_milestone_of_1000_mailboxes_exactly_once(
    db: Container, second_worker: Container
) -> None:
    boxes = _mailboxes()
    async with db.engine.begin() as connection:
        await connection.execute(insert(MailboxRow), [mailbox_to_values(b, START) for b in boxes])

    taken = 0
    for moment in MOMENTS:
        done = await asyncio.gather(
            sweep_mailbox_lifecycle(db.unit_of_work, moment, batch=50),
            sweep_mailbox_lifecycle(second_worker.unit_of_work, moment, batch=50),
        )
        taken += sum(done)

    expected = _expected(boxes)
    assert sum(expected.values()) > 500
    assert len(expected) == 8  # every milestone occurs
    assert taken == sum(expected.values())  # neither worker took a step the other took
    async with db.engine.connect() as connection:

        async def rows(sql: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in (await connection.execute(text(sql))).all()}

        assert (
            await rows("SELECT milestone, count(*) FROM mailbox_milestones GROUP BY milestone")
            == expected
        )
        assert (
            await rows(
                "SELECT payload->>'milestone', count(*) FROM outbox WHERE kind = 'email' GROUP BY 1"
            )
            == expected
        )
        twice = await rows(
            "SELECT (payload->>'mailbox_id') || ':' || (payload->>'milestone'), count(*) "
            "FROM outbox WHERE kind = 'email' GROUP BY 1 HAVING count(*) > 1"
        )
        assert twice == {}
        deletions = expected["lifecycle_deletion"]
        assert await rows(
            "SELECT payload->>'action', count(*) FROM outbox "
            "WHERE kind = 'mail_platform' GROUP BY 1"
        ) == {"deletion": deletions}
        assert await rows(
            "SELECT status, count(*) FROM mailboxes WHERE status = 'DELETED' GROUP BY 1"
        ) == {"DELETED": deletions}
        partner_events = await rows(
            "SELECT payload->>'type', count(*) FROM outbox WHERE kind = 'partner_webhook' "
            "GROUP BY 1"
        )
        managed = [b for b in boxes if b.partner_id and takes_part(b)]
        assert partner_events["mailbox.deleted"] == sum(
            1 for b in managed if b.expires_on + timedelta(days=91) <= italian_date(MOMENTS[-1])
        )
        assert partner_events["mailbox.expiring"] > 0
