"""Property-based fuzzing of the read, quote and order operations from the app's own OpenAPI.

Whatever schemathesis generates (valid or not), the service never answers 5xx, and every
4xx is `application/problem+json`.

Schemathesis calls an ASGI app synchronously, on its own event-loop thread, so this module
does not share the session `container` (its connection pool belongs to pytest's loop): it
builds its own container on the same per-run test database, with a NullPool engine (no
connection outlives the loop that opened it), and seeds it itself.

The schema is read at import from a throwaway app's `openapi()` (pure: no request, no
database), and each case is sent to the fixture's app with `case.call(app=...)`.
`schemathesis.pytest.from_fixture` would be the lazy alternative, but schemathesis 4.32
reads `Function._nodeid`, which pytest 9 no longer has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.container import Container, build_container
from app.db.engine import is_sqlite
from app.db.models import MailboxRow
from app.db.unit_of_work import UnitOfWork
from app.main import create_app
from app.settings import Environment, Settings
from tests import database
from tests.conftest import CUSTOMER, PARTNER, STAFF, START, TEST_SECRET
from tests.fixtures import reset_database

PROBLEM_JSON = "application/problem+json"
FUZZED_OPERATIONS = [
    "get_price_list",
    "list_mailboxes",
    "get_mailbox",
    "create_quote",
    "get_quote",
    "create_order",
    "list_orders",
    "get_order",
    "cancel_order",
    "set_auto_renewal",
]
# Ids hypothesis likes to generate ("0", "00") hit real mailboxes, so pricing runs too.
SEEDED_MAILBOXES = {"0": "STANDARD", "00": "PRO", "mbx-1": "PREMIUM", "A": "DOMAIN"}


def _run_in_own_loop(coroutine: Any) -> Any:
    """Run `coroutine` on a fresh loop in another thread, away from pytest-asyncio's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _settings(database_url: str) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        auth_jwt_secret=TEST_SECRET,
        log_level="WARNING",
        catalog_cache_seconds=3600,
        cors_origins=[],
    )


def _build_container(database_url: str) -> Container:
    engine = (
        None if is_sqlite(database_url) else create_async_engine(database_url, poolclass=NullPool)
    )
    return build_container(_settings(database_url), clock=lambda: START, engine=engine)


async def _seed(container: Container) -> None:
    await reset_database(container)
    today = START.date()
    async with UnitOfWork(container.sessionmaker) as uow:
        uow.session.add_all(
            [
                MailboxRow(
                    id=mailbox_id,
                    address=f"box-{n}@pec.example.it",
                    plan_code=plan,
                    extra_mailbox_gb=0,
                    extra_archive_gb=0,
                    used_mailbox_mb=300 * n,
                    used_archive_mb=0,
                    expires_on=today + timedelta(days=10 * n - 5),
                    status="ACTIVE",
                    auto_renewal=False,
                    auto_renewal_years=1,
                    account_id="acc-1",
                    partner_id="ptn-1",
                    updated_at=START,
                )
                for n, (mailbox_id, plan) in enumerate(SEEDED_MAILBOXES.items())
            ]
        )
        await uow.commit()


@pytest.fixture(scope="module")
def fuzz_app(test_database: database.TestDatabase) -> Iterator[Any]:
    container = _build_container(test_database.url)
    _run_in_own_loop(_seed(container))
    try:
        yield create_app(container=container)
    finally:
        _run_in_own_loop(container.close())


# Never connected: it only renders the OpenAPI document.
_document = create_app(_settings("sqlite+aiosqlite://")).openapi()
schema = schemathesis.openapi.from_dict(_document).include(operation_id=FUZZED_OPERATIONS)
# Staff may call everything: every operation, fewer examples each (the suite stays fast).
every_operation = schemathesis.openapi.from_dict(_document)


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_5xx_and_every_4xx_is_a_problem(case: Any, fuzz_app: Any) -> None:
    _check(case, fuzz_app, CUSTOMER)


@every_operation.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_staff_get_no_5xx_anywhere(case: Any, fuzz_app: Any) -> None:
    _check(case, fuzz_app, STAFF)


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_partners_get_no_5xx(case: Any, fuzz_app: Any) -> None:
    _check(case, fuzz_app, PARTNER)


def _check(case: Any, app: Any, token: dict[str, str]) -> None:
    response = case.call(app=app, headers=token)

    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    assert response.status_code < 500, where
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type == PROBLEM_JSON, where
        problem = response.json()
        assert problem["status"] == response.status_code, where
        assert isinstance(problem["code"], str), where
        assert problem["code"], where
