"""`python -m app.catalog publish FILE`: a release pipeline publishes a price list file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.container import Container
from app.db.unit_of_work import UnitOfWork
from app.sandbox.demo_catalog import DEMO_PRICE_LIST_FILE


def run_cli(db: Container, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db.settings.database_url, "ENVIRONMENT": "test"}
    return subprocess.run(
        [sys.executable, "-m", "app.catalog", "publish", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_cli_publishes_a_price_list_file_named_after_its_id(
    empty_db: Container, tmp_path: Path
) -> None:
    path = tmp_path / "2027-01.json"
    path.write_text(DEMO_PRICE_LIST_FILE.read_text())

    done = run_cli(empty_db, str(path))
    again = run_cli(empty_db, str(path))

    assert (done.returncode, done.stdout) == (0, "price list 2027-01: created (in force now)\n")
    assert (again.returncode, again.stdout) == (0, "price list 2027-01: unchanged (in force now)\n")
    async with UnitOfWork(empty_db.sessionmaker) as uow:
        (listed,) = await uow.catalog.published()
    assert (listed.id, listed.published_by) == ("2027-01", "cli")


async def test_the_cli_refuses_an_invalid_file_and_says_why(
    empty_db: Container, tmp_path: Path
) -> None:
    body = json.loads(DEMO_PRICE_LIST_FILE.read_text())
    body["plans"][0]["max_mailbox_gb"] = 0
    body["vat_rate"] = "twenty-two"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(body))
    body["vat_rate"] = "0.22"
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(body))

    malformed = run_cli(empty_db, str(path), "--id", "2027-01")
    broken = run_cli(empty_db, str(rules), "--id", "2027-01")

    assert malformed.returncode == 2
    assert "vat_rate:" in malformed.stderr
    assert broken.returncode == 2
    assert "plans[0].max_mailbox_gb: max_below_base" in broken.stderr
    async with UnitOfWork(empty_db.sessionmaker) as uow:
        assert await uow.catalog.published() == []
