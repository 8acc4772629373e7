"""Fixtures of the API tests: real peers on loopback, and both quote stores."""

from tests.api.loopback_servers import platform, smtp, worker
from tests.api.quote_store_fixtures import (
    db,
    pytest_generate_tests,
    quote_store,
)

__all__ = [
    "db",
    "platform",
    "pytest_generate_tests",
    "quote_store",
    "smtp",
    "worker",
]
