"""A real browser renders /docs with no network: Debian's `chromium`, headless, against the
app served by uvicorn on a free port. Every host but 127.0.0.1 fails to resolve and any
proxied fetch goes to a dead port, so a page that needed a CDN would render nothing.

`.ci/run` installs chromium and sets REQUIRE_CHROMIUM=1, so CI always runs this; on a
laptop without chromium it is skipped with a message saying how to run it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.main import create_app
from app.settings import Environment, Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = PROJECT_ROOT / "var" / "docs-screenshot.png"
CHROMIUM = shutil.which("chromium")
HOW_TO_RUN = (
    "chromium is not installed: the browser check of /docs is skipped. To run it: "
    "`sudo apt-get install -y chromium`, then "
    "`sh scripts/uv.sh run pytest tests/integration/test_docs_in_browser.py` "
    "(.ci/run installs chromium and always runs it)."
)
OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # No network: names other than 127.0.0.1 don't resolve, and a proxy on a dead port
    # catches anything that would go out by address.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
    "--virtual-time-budget=10000",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("REQUIRE_CHROMIUM") == "1":
            pytest.fail("REQUIRE_CHROMIUM=1 but `chromium` is not on PATH")
        pytest.skip(HOW_TO_RUN)
    return CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a real socket. /docs needs only the OpenAPI document: no data, no seed."""
    folder = tmp_path_factory.mktemp("docs-server")
    settings = Settings(
        environment=Environment.TEST,
        database_url=f"sqlite+aiosqlite:///{folder / 'docs.sqlite3'}",
        log_level="WARNING",
    )
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_config=None, access_log=False)
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [listener]})
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uvicorn_server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def _render(
    chromium: str, profile: Path, *flags: str, url: str
) -> subprocess.CompletedProcess[str]:
    command = [chromium, *OFFLINE, f"--user-data-dir={profile}", *flags, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


def test_swagger_ui_renders_every_operation_with_no_network(
    chromium: str, server: str, tmp_path: Path
) -> None:
    operations = httpx.get(f"{server}/openapi.json").json()["paths"]

    rendered = _render(chromium, tmp_path / "profile", "--dump-dom", url=f"{server}/docs")

    dom = rendered.stdout
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    assert 'class="swagger-ui' in dom, "Swagger UI did not start: its script did not load"
    shown = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert shown == set(operations), f"missing: {set(operations) - shown}"
    assert "Price a renewal of one or more mailboxes" in dom  # POST /v1/quotes' summary
    assert dom.count('class="opblock opblock-') == sum(
        len([m for m in ops if m in ("get", "post", "put", "delete", "patch")])
        for ops in operations.values()
    )


def test_a_screenshot_of_the_docs_is_written_under_var(
    chromium: str, server: str, tmp_path: Path
) -> None:
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)

    rendered = _render(
        chromium,
        tmp_path / "profile",
        f"--screenshot={SCREENSHOT}",
        "--window-size=1280,2000",
        url=f"{server}/docs",
    )

    assert rendered.returncode == 0, rendered.stderr[-2000:]
    assert SCREENSHOT.read_bytes().startswith(b"\x89PNG")
    # A blank page compresses to a couple of kilobytes; the rendered operations don't.
    assert SCREENSHOT.stat().st_size > 30_000
