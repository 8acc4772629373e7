"""`make bench` can't rot: its harness runs end to end in a smoke run of a few seconds of
load (`python -m bench --smoke`), against a throw-away database of its own."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bench.harness import DEFAULT_SERVER
from tests.database import postgres_required

TARGETS = 21  # rows of the spec's target table, every endpoint named


def postgres_reachable() -> bool:
    server = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER))
    dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)

    async def probe() -> None:
        connection = await asyncpg.connect(dsn, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


def require_wrk_and_postgres() -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("REQUIRE_WRK") == "1":  # CI installs it (.ci/run): fail, not skip
            pytest.fail("wrk is not installed (scripts/ensure_wrk.sh)")
        pytest.skip("wrk is not installed (make bench installs it)")
    if not postgres_reachable():
        if postgres_required():
            pytest.fail("the bench needs PostgreSQL (TEST_DATABASE_URL)")
        pytest.skip("the bench needs PostgreSQL (TEST_DATABASE_URL)")


def test_the_bench_prints_every_target_with_a_verdict_and_proves_exactly_once() -> None:
    require_wrk_and_postgres()

    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    verdicts = re.findall(r"^(.+?)\s{2,}(?:<=|>=) .*\s(PASS|FAIL)$", out, re.M)
    measures = [measure for measure, _ in verdicts]
    assert len(measures) == TARGETS, out[-4000:]
    for endpoint in ("GET /bench/trivial", "POST /v1/quotes", "POST /v1/orders", "payment webhook"):
        assert f"p99/p50 @64 {endpoint}" in measures
        assert f"p99 @8 {endpoint} vs asyncpg" in measures
    # Measured in rounds: each ratio shows its two medians and the rounds' spread.
    spread = r"[\d.]+ \([\d,]+ / [\d,]+ µs; [\d.]+–[\d.]+\)"
    assert re.search(rf"^server CPU POST /v1/quotes vs asyncpg\s+<= 2.00\s+{spread}", out, re.M)
    assert re.search(r"exactly once\s+>= 500 /s\s+[\d,]+ /s \(.+\) over \d+ in 2 rounds", out)
    assert "UNEXPECTED" not in out, out  # the SQL proof of exactly once held
    # Each run says how much CPU the host stole meanwhile, and the raw table sums it up.
    assert re.search(r"^\s+GET /bench/asyncpg\s+@64 .* st\s*\d+%", out, re.M), out[-4000:]
    assert re.search(r"db µs/req\s+steal\s+retaken\s+answers$", out, re.M)
    assert re.search(r"^\s+re-sent \d+: answered duplicate\s+\d+\s+ok$", out, re.M)
    assert re.search(r"^database pec_bench_\w+ dropped$", out, re.M)


def test_two_trees_are_compared_round_by_round() -> None:
    require_wrk_and_postgres()

    # This tree twice: the harness, not the numbers.
    done = subprocess.run(
        [sys.executable, "-m", "bench.compare_trees", ".", ".", "--rounds", "1", "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = r"floor +\d+ µs, quote +\d+ µs, ratio [\d.]+"
    assert len(re.findall(rf"^round 1  .+: {figures}$", done.stdout, re.M)) == 2, done.stdout
    assert len(re.findall(rf"^  .+: {figures}$", done.stdout, re.M)) == 2, done.stdout


def test_the_low_load_bench_places_and_pays_its_orders_and_prints_their_p99_ratios() -> None:
    require_wrk_and_postgres()

    done = subprocess.run(
        [sys.executable, "-m", "bench.low_load", "--share", "4", "--rounds", "1",
         "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"POST /v1/orders .* 201×4$", out, re.M), out
    assert re.search(r"payment webhook .* 200×4$", out, re.M), out
    assert re.search(r"^  POST /v1/orders +\d+\.\d\d", out, re.M), out  # the median ratio
