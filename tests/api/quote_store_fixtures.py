"""The quote API tests run on both quote stores: asyncpg, the default on PostgreSQL, and
the SQLAlchemy session that QUOTE_STORE=sqlalchemy forces (app/db/quote_store.py).

A module opts in with `pytestmark = pytest.mark.both_quote_stores`: each of its tests that uses the
database runs once per store, unchanged; `db` (and so `client`) is then a container
whose settings choose that store, sharing the test database, engine and price list.
"""

from __future__ import annotations

import dataclasses

import pytest

from app.container import Container
from app.settings import QuoteStoreKind

MARKER = "both_quote_stores"  # registered in pyproject.toml
STORES = ("asyncpg", "sqlalchemy")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker(MARKER) and "db" in metafunc.fixturenames:
        metafunc.parametrize("quote_store", STORES, indirect=True)


@pytest.fixture
def quote_store(request: pytest.FixtureRequest) -> str | None:
    """The store this test runs on; None outside the modules that run on both."""
    store: str | None = getattr(request, "param", None)
    return store


@pytest.fixture
async def db(db: Container, quote_store: str | None) -> Container:
    if quote_store != "sqlalchemy":
        return db
    if db.engine.dialect.name != "postgresql":
        pytest.skip("without PostgreSQL the default store is already the SQLAlchemy one")
    forced = db.settings.model_copy(update={"quote_store": QuoteStoreKind.SQLALCHEMY})
    return dataclasses.replace(db, settings=forced)
