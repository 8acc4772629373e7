"""Fixtures of the API tests: real peers on loopback, and both ways to the database."""

from tests.api.access_path_fixtures import (
    db,
    pytest_generate_tests,
    quote_store,
    unit_of_work,
)
from tests.api.loopback_servers import platform, smtp, worker
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
    "unit_of_work",
    "worker",
]
