"""Every `make run` starts the same demo: the sandbox's database is emptied, migrated and
seeded again.

Otherwise a restart keeps the last session's orders and idempotency keys, and the
README's walk fails half-way (`idempotency_key_reused`, a mailbox already renewed).
Emptying a database is only ever done in sandbox mode, outside production, and to a
database where nobody but the sandbox published a price list.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from app.db.emptying import empty_every_table, other_publishers
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade_to_head
from app.sandbox.seed import SANDBOX_PUBLISHER, seed_demo_data
from app.settings import Environment, Settings


class NotASandbox(Exception):
    """The settings or the database say this is not the sandbox's to empty."""


def start_fresh_demo(settings: Settings, now: datetime) -> None:
    """Empty the sandbox's database, migrate it and seed the demo as of `now`."""
    if not settings.sandbox or settings.environment is Environment.PRODUCTION:
        raise NotASandbox(
            "the demo is reset only with SANDBOX=true outside production "
            f"(SANDBOX={settings.sandbox}, ENVIRONMENT={settings.environment.value})"
        )
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.database_url)
    asyncio.run(_empty_and_seed(settings, now))


async def _empty_and_seed(settings: Settings, now: datetime) -> None:
    engine = make_engine(settings.database_url)
    try:
        others = await other_publishers(engine, SANDBOX_PUBLISHER)
        if others:
            where = engine.url.render_as_string(hide_password=True)
            raise NotASandbox(
                f"{', '.join(others)} published price lists in {where}: "
                "not the sandbox's database, so `make run` will not empty it. "
                "Point DATABASE_URL at a database of its own."
            )
        await empty_every_table(engine)
        await seed_demo_data(make_sessionmaker(engine), now)
    finally:
        await engine.dispose()
