"""A year in the life of a mailbox without automatic renewal, through the real worker.

The injected clock moves a day at a time and the worker (tests/api/loopback_servers.py:
the real deliverers, an aiosmtpd server, an HTTP mail platform) runs until idle each day:
every reminder reaches the holder once, on its day and in order; on day 91 after expiry
the platform is told to delete the mailbox, the holder is told it happened, and the
mailbox reads DELETED. A mailbox with automatic renewal hears nothing from this sweep.
"""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy import text

from app.container import Container
from app.domain.calendar import italian_date
from tests.api.helpers import TODAY, put_mailbox
from tests.api.loopback_servers import MailPlatform, RunOnce, SmtpServer
from tests.conftest import CUSTOMER, MovableClock

EXPIRY = TODAY + timedelta(days=100)  # 2027-03-05


async def _run_until_idle(worker: RunOnce) -> None:
    for _ in range(20):
        if not await worker():
            return
    raise AssertionError("the worker never ran out of work")


async def test_a_year_without_automatic_renewal_reminds_then_deletes(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    smtp: SmtpServer,
    platform: MailPlatform,
    worker: RunOnce,
) -> None:
    await put_mailbox(client, "mbx-1", expires_on=EXPIRY)
    await put_mailbox(client, "mbx-auto", expires_on=EXPIRY, auto_renewal=True)
    received_on: list[date] = []

    for _ in range(365):
        clock.advance(timedelta(days=1))
        before = len(smtp.inbox.received)
        await _run_until_idle(worker)
        received_on += [italian_date(clock())] * (len(smtp.inbox.received) - before)

    subjects = [mail.message["Subject"] for mail in smtp.inbox.received]
    address = "mbx-1@pec.example.it"
    assert subjects == [
        *[f"La casella PEC {address} scade il 05/03/2027"] * 4,
        f"La casella PEC {address} scade oggi",
        *[f"La casella PEC {address} è scaduta: rinnovala entro il 03/06/2027"] * 2,
        f"La casella PEC {address} è stata cancellata",
    ]
    days = [-90, -30, -15, -7, 0, 30, 60, 91]
    assert received_on == [EXPIRY + timedelta(days=d) for d in days]
    assert {tuple(mail.rcpt_tos) for mail in smtp.inbox.received} == {("mario@example.it",)}
    assert "tra 15 giorni" in smtp.inbox.received[2].text
    assert "cancellata oggi, 04/06/2027" in smtp.inbox.received[-1].text

    [deletion] = platform.calls
    assert deletion.path == "/mailboxes/mbx-1/deletions"
    assert deletion.body["action"] == "deletion"
    assert deletion.body["deleted_on"] == "2027-06-04"  # 91 days after the expiry
    assert deletion.headers["idempotency-key"] == "deletion:mbx-1:2027-03-05"

    shown = await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)
    assert shown.json()["status"] == "DELETED"
    async with db.engine.connect() as connection:
        # automatic renewal is the renewal's business (not renewed here: no charger runs)
        mirrored = await connection.scalar(
            text("SELECT status FROM mailboxes WHERE id = 'mbx-auto'")
        )
        assert mirrored == "ACTIVE"
        milestones = await connection.execute(
            text(
                "SELECT mailbox_id, milestone, count(*) FROM mailbox_milestones "
                "GROUP BY mailbox_id, milestone"
            )
        )
        assert {(row[0], row[2]) for row in milestones} == {("mbx-1", 1)}
        undelivered = await connection.scalar(
            text("SELECT count(*) FROM outbox WHERE delivered_at IS NULL")
        )
        assert undelivered == 0


async def test_a_renewal_in_the_grace_stops_the_deletion(
    client: httpx.AsyncClient,
    clock: MovableClock,
    smtp: SmtpServer,
    platform: MailPlatform,
    worker: RunOnce,
) -> None:
    await put_mailbox(client, "mbx-1", expires_on=TODAY - timedelta(days=50))
    await _run_until_idle(worker)  # the 30-day grace reminder, sent late: the latest due
    assert [m.message["Subject"] for m in smtp.inbox.received] == [
        "La casella PEC mbx-1@pec.example.it è scaduta: rinnovala entro il 04/01/2027"
    ]

    # renewed on the platform (mirrored with the new expiry): the old expiry's steps stop
    await put_mailbox(client, "mbx-1", expires_on=TODAY + timedelta(days=315))
    clock.advance(timedelta(days=60))
    await _run_until_idle(worker)

    assert len(smtp.inbox.received) == 1
    assert platform.calls == []
    assert (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()["status"] == (
        "ACTIVE"
    )
