"""API tests that run on both ways to the database, so the two can't drift apart.

- Quotes: asyncpg, the default on PostgreSQL, and the SQLAlchemy session that
  QUOTE_STORE=sqlalchemy forces (app/db/quote_store.py). A module opts in with
  `pytestmark = pytest.mark.both_quote_stores`.
- Orders, payments and everything else in a unit of work: the lean unit of work
  (asyncpg on the hot path), the default on PostgreSQL, and the SQLAlchemy one that
  UNIT_OF_WORK=sqlalchemy forces (app/db/lean_unit_of_work.py). A module opts in with
  `pytestmark = pytest.mark.both_units_of_work`.

Each database test of such a module runs once per path, unchanged: `db` (and so
`client`) is then a container whose settings choose that path, sharing the test
database, engine and price list.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from app.container import Container
from app.settings import QuoteStoreKind, UnitOfWorkKind

QUOTE_STORES = ("asyncpg", "sqlalchemy")
UNITS_OF_WORK = ("lean", "sqlalchemy")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("both_quote_stores"):
        metafunc.parametrize("quote_store", QUOTE_STORES, indirect=True)
    if metafunc.definition.get_closest_marker("both_units_of_work"):
        metafunc.parametrize("unit_of_work", UNITS_OF_WORK, indirect=True)


@pytest.fixture
def quote_store(request: pytest.FixtureRequest) -> str | None:
    """The quote store this test runs on; None outside the modules that run on both."""
    store: str | None = getattr(request, "param", None)
    return store


@pytest.fixture
def unit_of_work(request: pytest.FixtureRequest) -> str | None:
    """The unit of work this test runs on; None outside the modules that run on both."""
    kind: str | None = getattr(request, "param", None)
    return kind


@pytest.fixture
async def db(db: Container, quote_store: str | None, unit_of_work: str | None) -> Container:
    forced: dict[str, Any] = {}
    if quote_store == "sqlalchemy":
        forced["quote_store"] = QuoteStoreKind.SQLALCHEMY
    if unit_of_work == "sqlalchemy":
        forced["unit_of_work"] = UnitOfWorkKind.SQLALCHEMY
    if not forced:
        return db
    if db.engine.dialect.name != "postgresql":
        pytest.skip("without PostgreSQL the SQLAlchemy path is already the only one")
    return dataclasses.replace(db, settings=db.settings.model_copy(update=forced))
