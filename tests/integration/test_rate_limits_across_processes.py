"""Two api processes sharing Redis hold one budget per caller: a customer who spends its
quote limit over both is refused by both."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.container import Container
from tests.api.helpers import put_mailbox
from tests.conftest import CUSTOMER, OTHER_CUSTOMER, TEST_SECRET
from tests.rate_limit_fixtures import REDIS_TEST_URL, redis_prefix

__all__ = ["redis_prefix"]  # a fixture

ROOT = Path(__file__).resolve().parents[2]
QUOTE = {"years": 1, "items": [{"mailbox_id": "mbx-shared"}]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_processes(count: int, env: dict[str, str], logs: Path) -> Iterator[list[str]]:
    """`count` uvicorn api processes on free ports, started side by side; their base URLs
    once each answers /readyz."""
    processes: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        for n in range(count):
            port, log = _free_port(), logs / f"api-{n}.log"
            command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
            with log.open("wb") as out:
                process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
            processes.append((process, f"http://127.0.0.1:{port}", log))
        deadline = time.monotonic() + 90
        for process, base, log in processes:
            while not _ready(base):
                assert process.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.2)
        yield [base for _, base, _ in processes]
    finally:
        for process, _, _ in processes:
            process.terminate()
        for process, _, _ in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def test_two_api_processes_refuse_a_caller_over_its_shared_quote_limit(
    db: Container, client: httpx.AsyncClient, redis_prefix: str, tmp_path: Path
) -> None:
    await put_mailbox(client, "mbx-shared", account_id="acc-1")
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": db.settings.database_url,
        "AUTH_JWT_SECRET": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": REDIS_TEST_URL,
        "RATE_LIMIT_KEY_PREFIX": redis_prefix,
        "RATE_LIMIT_QUOTES": "5/minute",
        "DATABASE_POOL_SIZE": "2",
    }
    with api_processes(2, env, tmp_path) as (first, second):
        async with httpx.AsyncClient(timeout=10) as http:
            spent = [
                await http.post(f"{base}/v1/quotes", json=QUOTE, headers=CUSTOMER)
                for base in (first, second, first, second, first)
            ]
            refused = [
                await http.post(f"{base}/v1/quotes", json=QUOTE, headers=CUSTOMER)
                for base in (first, second)
            ]
            other = await http.post(f"{second}/v1/quotes", json=QUOTE, headers=OTHER_CUSTOMER)

    assert [r.status_code for r in spent] == [201] * 5, [r.text for r in spent]
    assert [r.headers["ratelimit"].split(";")[1] for r in spent] == [
        f"r={n}" for n in range(4, -1, -1)
    ]
    assert [r.status_code for r in refused] == [429, 429]
    assert {r.json()["code"] for r in refused} == {"rate_limited"}
    assert all(1 <= int(r.headers["retry-after"]) <= 60 for r in refused)
    assert other.status_code == 404  # another caller's own budget (not its mailbox)
