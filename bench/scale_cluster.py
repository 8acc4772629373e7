"""The scale run's cluster: N uvicorn api processes and N workers (`python -m app.worker`)
on one database, each in its own process group with its own log, pointed at the
loopback mail platform and SMTP server. Stopped as a whole on the way out.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from app.serving import UVICORN_FLAGS
from bench.harness import free_port, running_server, wait_ready
from bench.scale_client import process_cpu_seconds

# docs/performance.md: the scale run has the limiter in the path but never refused.
UNLIMITED = "1000000/second"
RATE_LIMIT_VARIABLES = (
    "RATE_LIMIT_QUOTES",
    "RATE_LIMIT_ORDERS",
    "RATE_LIMIT_WEBHOOKS",
    "RATE_LIMIT_SANDBOX",
    "RATE_LIMIT_FAILED_AUTH",
)
DEADLOCK = re.compile(r"deadlock", re.IGNORECASE)
TRACEBACK = re.compile(r"Traceback \(most recent call last\)")


@dataclass(frozen=True)
class ClusterConfig:
    database_url: str
    jwt_secret: str
    generic_webhook_secret: str
    smtp_port: int
    mail_platform_url: str
    logs: Path  # a directory: one log file per process
    apis: int = 2
    workers: int = 2
    api_pool_size: int = 16
    worker_pool_size: int = 2
    worker_interval_seconds: float = 0.2
    # Waiting for a pooled connection is not what this run tests: a wait, not a 503.
    pool_timeout_seconds: float = 30.0


@dataclass
class Cluster:
    bases: list[str]  # the api processes' base URLs
    logs: list[Path] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def exited(self) -> list[str]:
        """The processes (by log name) that are no longer running."""
        return [
            log.stem
            for log, process in zip(self.logs, self.processes, strict=True)
            if process.poll() is not None
        ]

    def cpu_seconds(self, database: str) -> dict[str, float]:
        """On-CPU seconds so far of the api processes, the workers, and the database's
        PostgreSQL backends (live processes only: read it while the cluster runs)."""
        used = {"api": 0.0, "workers": 0.0, "postgres": 0.0}
        for n, process in enumerate(self.processes):
            group, backends = process_cpu_seconds(process.pid, database)
            used["api" if n < len(self.bases) else "workers"] += sum(group.values())
            used["postgres"] = sum(backends.values())  # the same on every scan
        return used

    def log_findings(self) -> dict[str, int]:
        """Lines naming a deadlock, and tracebacks, over every process's log."""
        text = "\n".join(log.read_text(errors="replace") for log in self.logs if log.exists())
        return {
            "deadlock": len(DEADLOCK.findall(text)),
            "traceback": len(TRACEBACK.findall(text)),
        }

    def log_tails(self, chars: int = 1200) -> dict[str, str]:
        tails = {}
        for log in self.logs:
            text = log.read_text(errors="replace").strip() if log.exists() else ""
            if text:
                tails[log.name] = text[-chars:]
        return tails


def process_environment(config: ClusterConfig, base: dict[str, str]) -> dict[str, str]:
    """What every process of the cluster reads (app/settings.py names)."""
    return {
        **base,
        "DATABASE_URL": config.database_url,
        "DATABASE_POOL_TIMEOUT_SECONDS": str(config.pool_timeout_seconds),
        "AUTH_JWT_SECRET": config.jwt_secret,
        "GENERIC_WEBHOOK_SECRET": config.generic_webhook_secret,
        "SANDBOX": "false",  # the api processes run no worker loop: the workers do
        "LOG_LEVEL": "WARNING",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(config.smtp_port),
        "MAIL_PLATFORM_URL": config.mail_platform_url,
        "MAIL_PLATFORM_TOKEN": "scale-run",
        "WORKER_INTERVAL_SECONDS": str(config.worker_interval_seconds),
        **dict.fromkeys(RATE_LIMIT_VARIABLES, UNLIMITED),
    }


def api_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        *UVICORN_FLAGS,
        # Longer than any pause of the client's: uvicorn's default (5 s) closed idle
        # pooled connections, and one closed just as the client reused it came back as a
        # ReadError without an answer (a load balancer in front keeps its own idle
        # timeout below the server's for the same reason).
        "--timeout-keep-alive",
        "75",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


WORKER_COMMAND = [sys.executable, "-m", "app.worker"]


@contextmanager
def running_cluster(config: ClusterConfig, base_env: dict[str, str]) -> Iterator[Cluster]:
    """Every process started at once, then the apis' /readyz awaited; all stopped on exit."""
    env = process_environment(config, base_env)
    ports = [free_port() for _ in range(config.apis)]
    cluster = Cluster([f"http://127.0.0.1:{port}" for port in ports])
    with ExitStack() as stack:
        apis = []
        for n, port in enumerate(ports, 1):
            log = config.logs / f"api-{n}.log"
            cluster.logs.append(log)
            api_env = {**env, "DATABASE_POOL_SIZE": str(config.api_pool_size)}
            process = stack.enter_context(running_server(api_command(port), api_env, log))
            cluster.processes.append(process)
            apis.append((process, log))
        for n in range(1, config.workers + 1):
            log = config.logs / f"worker-{n}.log"
            cluster.logs.append(log)
            worker_env = {**env, "DATABASE_POOL_SIZE": str(config.worker_pool_size)}
            process = stack.enter_context(running_server(WORKER_COMMAND, worker_env, log))
            cluster.processes.append(process)
        for base, (process, log) in zip(cluster.bases, apis, strict=True):
            wait_ready(base, process, log)
        yield cluster
