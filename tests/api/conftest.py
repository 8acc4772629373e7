"""Fixtures of the API tests: real peers on loopback, and both quote stores."""

from tests.api.loopback_servers import platform, smtp, worker
from tests.api.quote_store_fixtures import (
    db,
    pytest_generate_tests,
    quote_store,
)
from tests.api.webhook_receiver import delivery, local_client, receiver

__all__ = [
    "db",
    "delivery",
    "local_client",
    "platform",
    "pytest_generate_tests",
    "quote_store",
    "receiver",
    "smtp",
    "worker",
]
