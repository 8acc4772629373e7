"""`make run`: migrate, seed the demo, print tokens, serve. One process, nothing to install.

uv run python -m app.sandbox [--host 127.0.0.1] [--port 8000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import uvicorn

from app.auth import issue_dev_token
from app.clock import system_clock
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade_to_head
from app.domain.access import Role
from app.sandbox.seed import CUSTOMER_ID, PARTNER_ID, STAFF_ID, seed_demo_data
from app.settings import Settings


async def _seed(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        await seed_demo_data(make_sessionmaker(engine), system_clock())
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the PEC renewal API in sandbox mode.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()

    os.environ.setdefault("SANDBOX", "true")
    settings = Settings()
    if settings.database_url.startswith("sqlite"):
        Path("var").mkdir(exist_ok=True)
    upgrade_to_head(settings.database_url)
    asyncio.run(_seed(settings))

    base = f"http://{args.host}:{args.port}"
    secret = settings.auth_jwt_secret
    print(f"\nPEC renewal API (sandbox) on {base}  —  docs: {base}/docs\n")  # noqa: T201
    for role, subject in (
        (Role.CUSTOMER, CUSTOMER_ID),
        (Role.PARTNER, PARTNER_ID),
        (Role.STAFF, STAFF_ID),
    ):
        token = issue_dev_token(secret, role, subject)
        print(f"{role.value:>8} ({subject}):\n  export {role.value.upper()}_TOKEN={token}\n")  # noqa: T201

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        access_log=False,
        log_config=None,
    )


if __name__ == "__main__":
    main()
