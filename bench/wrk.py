"""Load from wrk, a C load generator that costs far less CPU than the server it measures.

Two ways: `for_duration` sends one fixed request on every connection for `-d` seconds
(reads, quotes); `replay` sends a list of pre-built requests exactly once each
(bench/replay.lua: orders with their own Idempotency-Keys, pre-signed webhooks). Both
report req/s, p50/p99 as wrk saw them, and the server's CPU per request.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from bench.harness import group_cpu_seconds, postgres_cpu_seconds, stolen_cpu_seconds

REPLAY_SCRIPT = Path(__file__).with_name("replay.lua")
REPLAY_LIMIT_SECONDS = 600  # wrk's -d for a replay: it is stopped as soon as all answered
TIMEOUT = "60s"  # wrk drops (and counts as timeouts) latencies above its --timeout
THREADS = 2
# A steady run during which the host took more than this share of the machine's CPU time
# for its other guests (steal) is run again, up to STEAL_RETAKES times: on these shared
# VMs steal comes in bursts of seconds at 20-40%, and a 2 s run inside one reads a p99
# of 10-60 ms on the bare FastAPI app as on ours; at 8 connections a p99 is the slowest
# 1% of the run, so even 3% of steal, in a few stalls, moved the trivial endpoint's from
# 2.5 to 10 ms (docs/benchmarks.md, "The host's steal").
STEAL_LIMIT = 0.02
STEAL_RETAKES = 2


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    def raw(self, host: str) -> bytes:
        """The request as it goes on the wire (HTTP/1.1, keep-alive)."""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.body or self.method != "GET":
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Load:
    """One wrk run: what it measured, and the server's CPU per request."""

    label: str
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    server_cpu_us: float
    errors: str = ""  # wrk's "Non-2xx" and "Socket errors" lines, "" when none
    statuses: Counter[int] = field(default_factory=Counter)  # replay only
    matched: int = 0  # replay only: bodies containing the text asked for
    # PostgreSQL's CPU per request meanwhile (every postgres process on this machine): it
    # shares the cores with the server, so at 8 connections it is half of the queue.
    database_cpu_us: float = 0.0
    # The share of the machine's CPU time the host gave to other guests meanwhile, and
    # how many times a steady run was taken again because that share was over the limit.
    steal: float = 0.0
    retakes: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def tail_ratio(self) -> float:
        return self.p99_ms / self.p50_ms if self.p50_ms else float("inf")


# ---------------------------------------------------------------- wrk's output

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


@dataclass(frozen=True)
class WrkSummary:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: str


def parse_wrk(output: str) -> WrkSummary:
    """The numbers of `wrk --latency`'s summary."""
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m),", output, re.M)
    if not (p50 and p99 and total):
        raise RuntimeError(f"could not parse wrk's output:\n{output}")
    errors = [
        line.strip()
        for line in output.splitlines()
        if line.strip().startswith(("Non-2xx", "Socket errors"))
    ]
    seconds = _ms(total.group(2) + total.group(3)) / 1000
    return WrkSummary(
        int(total.group(1)), seconds, _ms(p50.group(1)), _ms(p99.group(1)), "; ".join(errors)
    )


MISSING = "wrk is not installed: `make bench` installs it (scripts/ensure_wrk.sh)"


def installed_wrk() -> str:
    """wrk's path; exits (status 2) saying how to install it when it is missing."""
    wrk = shutil.which("wrk")
    if wrk is None:
        print(MISSING, file=sys.stderr)
        raise SystemExit(2)
    return wrk


def wrk_version(wrk: str) -> str:
    completed = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    first = (completed.stdout or completed.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk (version unknown)"


# ---------------------------------------------------------------- for a duration


def static_script(request: Request, directory: Path) -> Path:
    """wrk's static request (no Lua call per request: the cheapest way wrk loads)."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"wrk.method = {json.dumps(request.method)}"]
    if request.body:
        lines.append(f"wrk.body = {json.dumps(request.body.decode())}")
    for name, value in request.headers:
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    path = directory / "static.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run_together(commands: Sequence[list[str]], timeout: float) -> list[str]:
    """Every command at once; their outputs once all have exited."""
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    outputs: list[str] = []
    failed: list[str] = []
    for process in processes:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        outputs.append(stdout)
        if process.returncode != 0:
            failed.append(f"wrk failed ({process.returncode}): {stderr}")
    if failed:
        raise RuntimeError("\n".join(failed))
    return outputs


@dataclass(frozen=True)
class Aim:
    """One steady load: a request, the server it goes to (its address and process group,
    whose CPU is counted), its label and a scratch directory for wrk's script."""

    base: str
    pgid: int
    request: Request
    label: str
    directory: Path

    def command(self, wrk: str, connections: int, seconds: int) -> list[str]:
        script = static_script(self.request, self.directory)
        command = [wrk, f"-t{min(THREADS, connections)}", f"-c{connections}", "-s", str(script)]
        return [
            *command,
            "--timeout",
            TIMEOUT,
            "--latency",
            f"-d{seconds}s",
            self.base + self.request.path,
        ]


def for_duration(
    wrk: str, aims: Sequence[Aim], *, connections: int, seconds: int, warmup: int
) -> list[Load]:
    """Each aim's request on every one of its `connections` for `seconds`, after `warmup`
    seconds of the same; the aims all at once (each its own wrk), so that whatever the
    host does meanwhile weighs on each of them alike. Each load's server CPU is its own
    process group's; PostgreSQL's is shared out over every aim's requests."""
    if warmup:
        _run_together([aim.command(wrk, connections, warmup) for aim in aims], warmup + 30)
    cpu_before = [group_cpu_seconds(aim.pgid) for aim in aims]
    database_before = postgres_cpu_seconds()
    stolen_before, started = stolen_cpu_seconds(), time.perf_counter()
    outputs = _run_together([aim.command(wrk, connections, seconds) for aim in aims], seconds + 60)
    cpu = [
        group_cpu_seconds(aim.pgid) - before for aim, before in zip(aims, cpu_before, strict=True)
    ]
    database = postgres_cpu_seconds() - database_before
    steal = steal_share(stolen_before, started)
    summaries = [parse_wrk(output) for output in outputs]
    every_request = max(sum(summary.requests for summary in summaries), 1)
    return [
        Load(
            aim.label,
            connections,
            summary.requests,
            summary.seconds,
            summary.p50_ms,
            summary.p99_ms,
            used / max(summary.requests, 1) * 1e6,
            summary.errors,
            database_cpu_us=database / every_request * 1e6,
            steal=steal,
        )
        for aim, summary, used in zip(aims, summaries, cpu, strict=True)
    ]


def steal_share(stolen_before: float, started: float) -> float:
    """The share of the machine's CPU time stolen by the host since `started`."""
    elapsed = (time.perf_counter() - started) * (os.cpu_count() or 1)
    return (stolen_cpu_seconds() - stolen_before) / elapsed if elapsed > 0 else 0.0


# ---------------------------------------------------------------- replay


def write_shares(requests: Sequence[Request], host: str, threads: int, directory: Path) -> None:
    """Thread n's share (every threads-th request from n) as NUL-ended raw requests."""
    for n in range(threads):
        raws = (request.raw(host) for request in requests[n::threads])
        (directory / f"requests-{n + 1}.bin").write_bytes(b"".join(raw + b"\0" for raw in raws))


def _parse_done(line: str) -> tuple[Counter[int], int]:
    statuses: Counter[int] = Counter()
    matched = 0
    for part in line.split()[2:]:
        name, _, count = part.partition("=")
        if name == "match":
            matched = int(count)
        else:
            statuses[int(name)] += int(count)
    return statuses, matched


def replay(
    wrk: str,
    base: str,
    requests: Sequence[Request],
    *,
    label: str,
    connections: int,
    pgid: int,
    directory: Path,
    match: str | None = None,
) -> Load:
    """Each request sent once, `connections` at a time; timed from the moment every wrk
    thread has loaded its share to the last answer."""
    if not requests:  # e.g. fewer orders placed than asked for: nothing to pay
        return Load(label, connections, 0, 0.0, 0.0, 0.0, 0.0, "nothing to send")
    threads = min(THREADS, len(requests), connections)
    directory.mkdir(parents=True, exist_ok=True)
    write_shares(requests, urlsplit(base).netloc, threads, directory)
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{REPLAY_LIMIT_SECONDS}s"]
    command += ["--timeout", TIMEOUT, "--latency", "-s", str(REPLAY_SCRIPT), base + "/"]
    command += ["--", str(directory), *([match] if match else [])]
    statuses: Counter[int] = Counter()
    matched = done = 0
    other: list[str] = []
    cpu_before, database_before = group_cpu_seconds(pgid), postgres_cpu_seconds()
    # Steal is counted from here, wrk's loading included: `started` moves on below.
    stolen_before, stolen_since = stolen_cpu_seconds(), time.perf_counter()
    started = finished = stolen_since
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:  # EOF: wrk exited (its -d ran out, or it failed)
        if line.startswith("replay-ready"):  # the clock starts once every share is loaded
            started = time.perf_counter()
        elif line.startswith("replay-done"):
            counts, found = _parse_done(line)
            statuses += counts
            matched += found
            done += 1
            if done == threads:
                finished = time.perf_counter()
                break
        else:
            other.append(line.rstrip())
    cpu = group_cpu_seconds(pgid) - cpu_before
    database = postgres_cpu_seconds() - database_before
    steal = steal_share(stolen_before, stolen_since)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # wrk then prints its summary and exits
    output, rest = process.communicate(timeout=60)
    if done < threads:
        raise RuntimeError(
            f"{label}: wrk ended with {sum(statuses.values())} of {len(requests)} answered "
            f"(exit {process.returncode}):\n" + "\n".join([*other, rest])[-2000:]
        )
    summary = parse_wrk(output)
    answered = sum(statuses.values())
    return Load(
        label,
        connections,
        answered,
        finished - started,
        summary.p50_ms,
        summary.p99_ms,
        cpu / max(answered, 1) * 1e6,
        summary.errors,
        statuses,
        matched,
        database / max(answered, 1) * 1e6,
        steal,
    )


@dataclass
class Loader:
    """wrk against one running server: its address, process group and the run's timings."""

    wrk: str
    base: str
    pgid: int
    directory: Path
    seconds: int
    warmup: int
    runs: int = 0

    def scratch(self) -> Path:
        self.runs += 1
        return self.directory / f"run-{self.runs}"

    def aim(self, request: Request, label: str) -> Aim:
        return Aim(self.base, self.pgid, request, label, self.scratch())

    def steady(
        self, request: Request, label: str, connections: int, seconds: int | None = None
    ) -> Load:
        """`request` for the run's duration (or `seconds`): see `steady_together`."""
        return steady_together([(self, request, label)], connections, seconds)[0]

    def replay(
        self, requests: Sequence[Request], label: str, connections: int, match: str | None = None
    ) -> Load:
        """Each of `requests` once (see `replay`)."""
        return replay(
            self.wrk,
            self.base,
            requests,
            label=label,
            connections=connections,
            pgid=self.pgid,
            directory=self.scratch(),
            match=match,
        )


def steady_together(
    runs: Sequence[tuple[Loader, Request, str]], connections: int, seconds: int | None = None
) -> list[Load]:
    """Each run's request on its server for the runs' duration (or `seconds`) after their
    warm-up, all at once (see `for_duration`); taken again, all of them, while the host's
    steal spoils them (STEAL_LIMIT)."""
    first = runs[0][0]
    retakes = 0
    while True:
        aims = [loader.aim(request, label) for loader, request, label in runs]
        loads = for_duration(
            first.wrk,
            aims,
            connections=connections,
            seconds=seconds or first.seconds,
            warmup=first.warmup,
        )
        if loads[0].steal <= STEAL_LIMIT or retakes == STEAL_RETAKES:
            return [replace(load, retakes=retakes) for load in loads]
        retakes += 1


# The length of one turn of `steady_alternated`: wrk's shortest run.
TURN_SECONDS = 1


def steady_alternated(
    pair: Sequence[tuple[Loader, Request, str]], connections: int, turns: int
) -> list[Load]:
    """Two steady loads, one second at a time in turns (A B B A A B B A…), `turns` each
    after a warm-up each: one load per side, its turns merged (see `merged`).

    On these shared machines the host's speed moves within seconds: the same bare app in
    the same process served 6,500 and 12,400 req/s in runs seconds apart, and a spinning
    loop's CPU time per step moved from 62 to 115 µs and back within a second, the machine
    otherwise idle (docs/benchmarks.md, "Trivial vs bare, in turns"). Two runs of 2 s one
    after the other compared the host's two moments as much as the two servers; in turns,
    both sides sample the same seconds alike, and the order A B B A cancels a drift."""
    if len(pair) != 2:
        raise ValueError("steady_alternated compares exactly two loads")
    first = pair[0][0]
    if first.warmup:
        for loader, request, label in pair:
            aim = loader.aim(request, label)
            _run_together([aim.command(first.wrk, connections, first.warmup)], first.warmup + 30)
    taken: list[list[Load]] = [[], []]
    for turn in range(2 * turns):
        side = (turn + 1) // 2 % 2  # 0 1 1 0 0 1 1 0 …
        loader, request, label = pair[side]
        aim = loader.aim(request, label)
        taken[side] += for_duration(
            first.wrk, [aim], connections=connections, seconds=TURN_SECONDS, warmup=0
        )
    return [merged(loads) for loads in taken]


def merged(turns: Sequence[Load]) -> Load:
    """One load of several runs of the same request: their requests, seconds, CPU and
    PostgreSQL's CPU added up; p50 the median run's, p99 the slowest run's (wrk's
    percentiles of separate runs can't be merged exactly: this one errs high); steal
    their mean."""
    requests = sum(load.requests for load in turns)
    weight = max(requests, 1)
    p50s = sorted(load.p50_ms for load in turns)
    first = turns[0]
    return Load(
        first.label,
        first.connections,
        requests,
        sum(load.seconds for load in turns),
        p50s[len(p50s) // 2],
        max(load.p99_ms for load in turns),
        sum(load.server_cpu_us * load.requests for load in turns) / weight,
        "; ".join(load.errors for load in turns if load.errors),
        database_cpu_us=sum(load.database_cpu_us * load.requests for load in turns) / weight,
        steal=sum(load.steal for load in turns) / len(turns),
        retakes=sum(load.retakes for load in turns),
    )
