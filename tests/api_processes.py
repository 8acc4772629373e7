"""Api processes started as production starts them (app/serving.py's flags), on free
ports, for tests that need a real server: several processes, or real connections."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.serving import UVICORN_FLAGS

ROOT = Path(__file__).resolve().parents[1]


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
            command += [*UVICORN_FLAGS, "--host", "127.0.0.1", "--port", str(port)]
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
