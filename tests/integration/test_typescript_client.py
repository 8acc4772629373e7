"""The TypeScript client (clients/typescript/) against the contract and a live sandbox.

The client's types are generated from openapi/openapi.json: a contract change that is
not regenerated fails here, and so does a change that breaks the README walk written
against the client. Needs Node.js 20+ and npm; where there are none this is skipped,
loudly, and REQUIRE_NODE=1 (`.ci/run`) makes a missing Node a failure instead.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.auth import issue_dev_token
from app.domain.access import Role
from app.sandbox.seed import CUSTOMER_ID
from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"
INSTALLED_STAMP = CLIENT / "node_modules" / ".installed-lock-sha256"
# Outside node_modules, which `npm ci` deletes; one per checkout.
INSTALL_LOCK = Path(tempfile.gettempdir()) / (
    "pec-npm-ci-" + hashlib.sha256(str(CLIENT).encode()).hexdigest()[:12] + ".lock"
)
NO_NODE = (
    "Node.js not found: the TypeScript client check is SKIPPED; install Node 20+ and npm to run it"
)


def _run(*command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=CLIENT, capture_output=True, text=True, timeout=timeout, check=False
    )


class _LoudSkip:
    """A red line at the end of the run: a skipped client check must not go unnoticed."""

    def __init__(self, why: str) -> None:
        self.why = why

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_sep("!", f"WARNING: {self.why}", red=True, bold=True)


def _require_node(config: pytest.Config) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    version = _run(node, "--version").stdout.strip() if node else ""
    major = int(version.lstrip("v").split(".")[0]) if version else 0
    if node and npm and major >= 20:
        return
    why = NO_NODE if not (node and npm) else f"{NO_NODE} (found Node {version})"
    if os.environ.get("REQUIRE_NODE", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{why}; REQUIRE_NODE is set: CI must check the TypeScript client")
    if not config.pluginmanager.has_plugin("typescript-client-skipped"):
        config.pluginmanager.register(_LoudSkip(why), "typescript-client-skipped")
    pytest.skip(why)


def _lock_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((CLIENT / name).read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def client_installed(pytestconfig: pytest.Config) -> None:
    """`npm ci` only when node_modules is missing or was installed from another lock.

    Under a lock: with pytest-xdist two workers may start on this module at once."""
    _require_node(pytestconfig)
    fingerprint = _lock_fingerprint()
    with INSTALL_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if INSTALLED_STAMP.exists() and INSTALLED_STAMP.read_text() == fingerprint:
            return
        installed = _run("npm", "ci", "--no-audit", "--no-fund", "--prefer-offline")
        assert installed.returncode == 0, installed.stdout + installed.stderr
        INSTALLED_STAMP.write_text(fingerprint)


def test_the_generated_client_matches_the_contract(client_installed: None) -> None:
    checked = _run("npm", "run", "--silent", "check:generated")

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_client_and_the_walk_type_check(client_installed: None) -> None:
    checked = _run(str(CLIENT / "node_modules" / ".bin" / "tsc"), "--noEmit", "-p", ".")

    assert checked.returncode == 0, checked.stdout + checked.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_sandbox(client_installed: None, tmp_path: Path) -> Iterator[str]:
    """`make run` on a fresh SQLite file and a free port: migrations, demo seed, uvicorn."""
    port = _free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "SANDBOX": "true",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sandbox.sqlite3'}",
        "AUTH_JWT_SECRET": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "sandbox.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.sandbox", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(server, base_url, log_path)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_serving(server: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the sandbox exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the sandbox did not answer within 60 s:\n{log.read_text()}")


def test_the_readme_walk_runs_green_against_a_live_sandbox(live_sandbox: str) -> None:
    token = issue_dev_token(TEST_SECRET, Role.CUSTOMER, CUSTOMER_ID)
    walk = subprocess.run(
        [str(CLIENT / "node_modules" / ".bin" / "tsx"), "src/walk.ts", live_sandbox],
        cwd=CLIENT,
        env={**os.environ, "CUSTOMER_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert walk.returncode == 0, walk.stdout + walk.stderr
    assert "second order           409 quote_already_ordered" in walk.stdout
    assert walk.stdout.rstrip().endswith("walk: OK")
