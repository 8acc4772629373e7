"""Fixtures shared by the database and API tests (unit tests need none of them)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from app.auth import issue_dev_token
from app.container import Container, build_container
from app.db.migrate import upgrade_to_head
from app.domain.access import Role
from app.settings import Environment, Settings
from tests.database import TestDatabase, create_test_database, drop_test_database
from tests.fixtures import empty_database, reset_database
from tests.shared_app import app_for

TEST_SECRET = "test-secret-for-hs256-tokens-0123456789"
# The suite sends many requests with one token and many 401s from one address: rate limits
# that run but never refuse, here and in every server a test starts (the limits' own tests
# set theirs: tests/api/test_rate_limits_api.py).
for _limit in ("QUOTES", "ORDERS", "SANDBOX", "WEBHOOKS", "FAILED_AUTH"):
    os.environ.setdefault(f"RATE_LIMIT_{_limit}", "1000000/second")
# Hypothesis fails an example slower than 200 ms by default: a timed test, which a shared
# 2-core machine (a benchmark or valgrind beside the suite) fails now and then. Speed is
# bench/'s to measure; here only the properties count.
hypothesis_settings.register_profile("pec", deadline=None)
hypothesis_settings.load_profile("pec")
START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
_database: TestDatabase | None = None


class MovableClock:
    """The tests' clock: fixed, moved on purpose."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture(scope="session")
def test_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabase]:
    global _database
    database = asyncio.run(create_test_database(tmp_path_factory.mktemp("db")))
    _database = database
    try:
        upgrade_to_head(database.url)
        yield database
    finally:
        asyncio.run(drop_test_database(database))


@pytest.fixture(scope="session")
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(scope="session")
async def container(test_database: TestDatabase, clock: MovableClock) -> AsyncIterator[Container]:
    settings = Settings(
        environment=Environment.TEST,
        database_url=test_database.url,
        auth_jwt_secret=TEST_SECRET,
        log_level="WARNING",
        catalog_cache_seconds=3600,
    )
    live = build_container(settings, clock=clock)
    yield live
    await live.close()


@pytest.fixture
async def db(container: Container, clock: MovableClock) -> Container:
    """A database holding the demo price list, three accounts and a partner, and nothing else."""
    clock.now = START
    await reset_database(container)
    return container


@pytest.fixture
async def empty_db(container: Container, clock: MovableClock) -> Container:
    """A migrated database with nothing in it: no price list, account or partner."""
    clock.now = START
    await empty_database(container)
    return container


@pytest.fixture
async def client(db: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = app_for(db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def bearer(role: Role | str, subject: str) -> dict[str, str]:
    token = issue_dev_token(TEST_SECRET, Role(role), subject, now=datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


CUSTOMER = bearer(Role.CUSTOMER, "acc-1")
OTHER_CUSTOMER = bearer(Role.CUSTOMER, "acc-2")
PARTNER = bearer(Role.PARTNER, "ptn-1")
STAFF = bearer(Role.STAFF, "staff-1")


def pytest_report_header() -> list[str]:
    return ["database tests: a fresh database per run (see the summary at the end)"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    databases = [_database] if _database is not None else []
    databases += _worker_databases  # with pytest-xdist (-n), each worker had its own
    for database in databases:
        if database.kind == "postgresql":
            terminalreporter.write_sep(
                "=", f"database tests ran on {database.description}", green=True
            )
        else:
            terminalreporter.write_sep("!", f"WARNING: {database.description}", red=True, bold=True)


# --- pytest-xdist: one throwaway database per worker, reported by the controller -----------

_worker_databases: list[TestDatabase] = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A worker tells the controller which database its tests ran on."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None and _database is not None:
        workeroutput["test_database"] = (_database.kind, _database.description)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """The controller keeps what each worker said, for the summary line."""
    output = getattr(node, "workeroutput", {}).get("test_database")
    if output is not None:
        kind, description = output
        _worker_databases.append(TestDatabase(url="", kind=kind, description=description))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent.name in ("api", "integration"):
            item.add_marker(pytest.mark.db)
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the long modules go first
        items.sort(key=lambda item: Path(str(item.fspath)).name not in LONG_MODULES)


# Modules with the longest tests (subprocesses, a browser, the contract fuzz, the
# connection-drop run). Handed out first under pytest-xdist, they run side by side while
# the short tests fill in around them, instead of one of them being the run's last minute.
LONG_MODULES = (
    "test_payment_event_retries_api.py",
    "test_typescript_client.py",
    "test_catalog_cli.py",
    "test_docs_in_browser.py",
    "test_openapi_fuzz_api.py",
    "test_sandbox_restart.py",
    "test_scale_out.py",
    "test_bench_smoke.py",
    "test_rate_limits_across_processes.py",
)
