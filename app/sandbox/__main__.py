"""`make run`: claim the port, start a fresh demo, print tokens, serve. One process.

uv run python -m app.sandbox [--host 127.0.0.1] [--port 8000]

The port is claimed first and handed to uvicorn, so a busy port is reported before
anything is seeded or printed, and nothing can take it in between.
"""

from __future__ import annotations

import argparse
import os
import socket

import uvicorn

from app.auth import issue_dev_token
from app.clock import system_clock
from app.domain.access import Role
from app.sandbox.fresh_start import start_fresh_demo
from app.sandbox.seed import CUSTOMER_ID, PARTNER_ID, STAFF_ID
from app.serving import UVICORN_CONFIG
from app.settings import Settings


def claim_port(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or exit saying which port is taken and what to do."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise SystemExit(
            f"Cannot serve the sandbox on {host}:{port}: {reason}. "
            f"Is another `make run` (or another server) using it? "
            f"Pick another port: make run PORT={port + 1}"
        ) from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the PEC renewal API in sandbox mode.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    listener = claim_port(args.host, args.port)
    os.environ.setdefault("SANDBOX", "true")
    settings = Settings()
    start_fresh_demo(settings, system_clock())

    base = f"http://{args.host}:{args.port}"
    secret = settings.auth_jwt_secret
    print(f"\nPEC renewal API (sandbox) on {base}  —  docs: {base}/docs")  # noqa: T201
    print(  # noqa: T201
        "A fresh demo on every start; browsers on localhost / 127.0.0.1 (any port) may call it.\n"
    )
    for role, subject in (
        (Role.CUSTOMER, CUSTOMER_ID),
        (Role.PARTNER, PARTNER_ID),
        (Role.STAFF, STAFF_ID),
    ):
        token = issue_dev_token(secret, role, subject)
        print(f"{role.value:>8} ({subject}):\n  export {role.value.upper()}_TOKEN={token}\n")  # noqa: T201

    config = uvicorn.Config(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_config=None,
        **UVICORN_CONFIG,
    )
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main()
