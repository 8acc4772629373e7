"""Real peers on loopback for the outbox tests: an SMTP server (aiosmtpd) that keeps what
it receives, and a mail platform (HTTP) that records renewals and can be down for a while
(both in bench/loopback_peers.py, which the scale run uses too). The fixtures `smtp`,
`platform` and `worker` (one pass of the real worker pointed at them) are registered in
tests/api/conftest.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest

from app.container import Container
from app.worker import deliverers, run_once
from bench.loopback_peers import (
    Inbox,
    MailPlatform,
    PlatformCall,
    Received,
    SmtpServer,
    free_port,
    serving,
    smtp_serving,
)

__all__ = [
    "Inbox",
    "MailPlatform",
    "PlatformCall",
    "Received",
    "RunOnce",
    "SmtpServer",
    "free_port",
    "platform",
    "serving",
    "smtp",
    "worker",
    "worker_container",
]

RunOnce = Callable[[], Awaitable[int]]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_serving() as server:
        yield server


@pytest.fixture
def platform() -> Iterator[MailPlatform]:
    with serving(MailPlatform()) as server:
        yield server


def worker_container(db: Container, smtp_port: int, platform_url: str) -> Container:
    settings = db.settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "mail_platform_url": platform_url,
            "mail_platform_token": "t",
        }
    )
    return dataclasses.replace(db, settings=settings)


@pytest.fixture
async def worker(db: Container, smtp: SmtpServer, platform: MailPlatform) -> AsyncIterator[RunOnce]:
    """One pass of the real worker, with the real deliverers pointed at the servers above."""
    container = worker_container(db, smtp.port, platform.url)
    async with httpx.AsyncClient() as http:
        senders = deliverers(container, http)

        async def once() -> int:
            return await run_once(container, senders)

        yield once
