"""Fixtures of the API tests that need real peers on loopback."""

from tests.api.loopback_servers import platform, smtp, worker

__all__ = ["platform", "smtp", "worker"]
