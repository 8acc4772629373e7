"""Milestones on PostgreSQL: of concurrent claims of one step, exactly one wins, and a
rolled-back claim is taken back."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from app.container import Container
from tests.unit.builders import NOW, mailbox

pytestmark = pytest.mark.db
EXPIRY = date(2026, 7, 31)


async def _claim(db: Container, milestone: str) -> bool:
    async with db.unit_of_work() as uow:
        won = await uow.milestones.claim("mbx-1", EXPIRY, milestone, NOW)
        await asyncio.sleep(0.01)  # hold the transaction open while the others try
        await uow.commit()
    return won


async def test_of_ten_concurrent_claims_of_one_milestone_exactly_one_wins(db: Container) -> None:
    async with db.unit_of_work() as uow:
        await uow.mailboxes.save(mailbox(), NOW)
        await uow.commit()

    wins = await asyncio.gather(*(_claim(db, "reminder_30") for _ in range(10)))

    assert wins.count(True) == 1
    async with db.unit_of_work() as uow:
        assert await uow.milestones.count("reminder_30") == 1
        assert set(await uow.milestones.reached("mbx-1", EXPIRY)) == {"reminder_30"}


async def test_a_claim_rolled_back_can_be_made_again(db: Container) -> None:
    async with db.unit_of_work() as uow:
        await uow.mailboxes.save(mailbox(), NOW)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.milestones.claim("mbx-1", EXPIRY, "deleted", NOW)
        # no commit: the step failed, so the milestone was not reached

    assert await _claim(db, "deleted")
    assert not await _claim(db, "deleted")
