"""`make run` again and again: every start gives the same fresh demo, so the README's walk
works every time; a busy port is named before anything is seeded or printed.
"""

from __future__ import annotations

import asyncio
import re
import socket
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.container import build_container
from app.domain.access import Role
from app.main import create_app
from app.routers.v1.price_list_schemas import read_price_list_file
from app.sandbox.__main__ import main
from app.sandbox.demo_catalog import DEMO_PRICE_LIST_FILE
from app.sandbox.fresh_start import NotASandbox, start_fresh_demo
from app.sandbox.seed import CUSTOMER_ID
from app.services import price_lists
from app.settings import Environment, Settings
from tests.conftest import TEST_SECRET, bearer

CUSTOMER = bearer(Role.CUSTOMER, CUSTOMER_ID)
STAFF = bearer(Role.STAFF, "staff-1")
JSON = {"Content-Type": "application/json"}
DOWNGRADE = {"mailbox_id": "mbx-premium", "plan": "STANDARD"}


def sandbox_settings(path: Path, *, sandbox: bool = True) -> Settings:
    return Settings(
        environment=Environment.DEVELOPMENT,
        sandbox=sandbox,
        database_url=f"sqlite+aiosqlite:///{path}",
        auth_jwt_secret=TEST_SECRET,
        log_level="WARNING",
    )


async def start(settings: Settings) -> None:
    # alembic runs its own event loop: start the sandbox beside this test's.
    await asyncio.to_thread(start_fresh_demo, settings, datetime.now(UTC))


async def readme_walk(settings: Settings) -> list[Any]:
    """The README's steps, with its Idempotency-Keys; what a reader would check at each."""
    container = build_container(settings)
    transport = httpx.ASGITransport(app=create_app(container=container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as api:
            blocked = await api.post(
                "/v1/quotes",
                json={"years": 1, "items": [DOWNGRADE]},
                headers={**CUSTOMER, **JSON, "Idempotency-Key": "demo-1"},
            )
            fixed = await api.post(
                "/v1/quotes",
                json={"years": 1, "items": [{**DOWNGRADE, "extra_mailbox_gb": 1}]},
                headers={**CUSTOMER, **JSON, "Accept-Language": "en"},
            )
            order = await api.post(
                "/v1/orders",
                json={
                    "quote_id": fixed.json()["id"],
                    "payment_method": "bank_transfer",
                    "acknowledge_archive_deletion": True,
                    "consents": {"terms": True, "unfair_terms": True, "privacy": True},
                },
                headers={**CUSTOMER, **JSON, "Idempotency-Key": "demo-order-1"},
            )
            assert order.status_code == 201, order.text
            paid = await api.post(f"/v1/sandbox/orders/{order.json()['id']}/pay", headers=CUSTOMER)
            mailbox = await api.get("/v1/mailboxes/mbx-premium", headers=CUSTOMER)
    finally:
        await container.close()
    return [
        (blocked.status_code, blocked.headers.get("Idempotent-Replayed")),
        blocked.json()["status"],
        (fixed.json()["status"], fixed.json()["total"]["amount"]),
        (order.json()["status"], re.sub(r"\d{4}", "YYYY", order.json()["number"], count=1)),
        paid.json()["status"],
        (mailbox.json()["plan"], mailbox.json()["extra_mailbox_gb"]),
        # a downgrade waits for the current expiry (domain.md "When a plan change takes effect")
        _scheduled(mailbox.json()["scheduled_change"]),
    ]


def _scheduled(change: dict[str, object] | None) -> tuple[object, ...] | None:
    return None if change is None else (change["plan"], change["extra_mailbox_gb"])


async def test_the_readme_walk_succeeds_after_every_sandbox_start(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path / "sandbox.sqlite3")

    await start(settings)
    first = await readme_walk(settings)
    await start(settings)
    second = await readme_walk(settings)

    assert first == [
        (201, None),
        "blocked",
        ("ok", "15.74"),
        ("AWAITING_PAYMENT", "PEC-YYYY-0000001"),
        "FULFILLED",
        ("PREMIUM", 0),
        ("STANDARD", 1),
    ]
    assert second == first


async def test_the_sandbox_never_empties_a_database_outside_sandbox_mode(tmp_path: Path) -> None:
    path = tmp_path / "not-a-sandbox.sqlite3"
    await start(sandbox_settings(path))
    await readme_walk(sandbox_settings(path))
    before = path.read_bytes()

    with pytest.raises(NotASandbox, match="SANDBOX"):
        await start(sandbox_settings(path, sandbox=False))

    assert path.read_bytes() == before


async def test_the_sandbox_never_empties_a_database_where_staff_published_a_price_list(
    tmp_path: Path,
) -> None:
    settings = sandbox_settings(tmp_path / "someone-elses.sqlite3")
    await start(settings)
    draft = read_price_list_file(DEMO_PRICE_LIST_FILE, "2099")
    later = replace(draft, valid_from=datetime(2099, 1, 1, tzinfo=UTC))
    container = build_container(settings)
    await price_lists.publish(container.unit_of_work(), later, "staff-1", datetime.now(UTC))
    await container.close()
    before = Path(tmp_path / "someone-elses.sqlite3").read_bytes()

    with pytest.raises(NotASandbox, match="staff-1"):
        await start(settings)

    assert Path(tmp_path / "someone-elses.sqlite3").read_bytes() == before


def test_a_busy_port_is_named_before_anything_is_seeded_or_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "never-created.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("SANDBOX", "true")  # main() sets it otherwise, for good
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]

        with pytest.raises(SystemExit) as stopped:
            main(["--port", str(port)])

    message = str(stopped.value.code)
    assert f"127.0.0.1:{port}" in message
    assert "make run PORT=" in message
    assert not database.exists()
    assert "TOKEN" not in capsys.readouterr().out
