"""`make scale`, small: two api processes and two workers on one PostgreSQL database.

150 orders placed and paid by signed webhooks spread over both processes (some events
sent twice at once, to both); the workers deliver the outbox to a loopback mail platform
and SMTP server. Every check of bench/scale.py must hold: each event applied once, each
mailbox renewed by exactly the years paid, each outbox message delivered once (counted
by the receivers), no 5xx, no deadlock. No timing is asserted: only that it ends.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import pytest

from bench.harness import create_database, drop_database
from bench.scale import ScaleOptions, ScaleReport, print_report, run_scale
from tests.database import postgres_required

pytestmark = pytest.mark.db

ORDERS = 150


def _postgres_reachable() -> bool:
    async def probe() -> None:
        database = await create_database()
        await drop_database(database)

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError):
        return False
    return True


def _run(options: ScaleOptions) -> tuple[ScaleReport, list[str]]:
    lines: list[str] = []
    # On a thread of its own: the run starts event loops of its own (asyncio.run,
    # alembic), never inside the one pytest-asyncio keeps for the session.
    with ThreadPoolExecutor(max_workers=1) as pool:
        report = pool.submit(run_scale, options, lines.append).result()
    print_report(report, lines.append)
    return report, lines


def test_two_api_processes_and_two_workers_do_everything_exactly_once() -> None:
    if not _postgres_reachable():
        if postgres_required():
            pytest.fail("PostgreSQL is required but unreachable")
        pytest.skip("two processes on one database need PostgreSQL")
    options = ScaleOptions(
        orders=ORDERS,
        concurrency=8,
        twice_every=5,
        drain_timeout=240.0,  # generous: a loaded machine is slow, never wrong
        api_pool_size=5,  # the suite's other workers share the server's connections
        worker_pool_size=2,
    )

    report, lines = _run(options)

    failed = "\n".join(f"{c.what}: {c.observed} (expected {c.expected})" for c in report.failures())
    assert report.ok, f"{failed}\n\n" + "\n".join(lines)
    assert {d.kind: d.queued >= ORDERS for d in report.deliveries} == {
        "email": True,
        "mail_platform": True,
    }
