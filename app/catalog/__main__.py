"""Publish a price list from a release pipeline, through the same checks as the admin API.

    python -m app.catalog publish price-lists/2027-01.json [--id 2027-01]

The file has the shape of the PUT /v1/admin/price-lists/{id} body; the id defaults to
the file's name without `.json`. DATABASE_URL comes from the settings, as for the api.
Exit status: 0 published (or unchanged), 1 refused (in force), 2 invalid input.
Running api processes use the new list within CATALOG_CACHE_SECONDS.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.clock import system_clock
from app.db.engine import make_engine, make_sessionmaker
from app.db.unit_of_work import UnitOfWork
from app.domain.price_list_rules import InvalidPriceList, PriceListDraft
from app.routers.v1.fields import is_identifier
from app.routers.v1.price_list_schemas import read_price_list_file
from app.services import price_lists
from app.services.errors import PriceListInForce
from app.settings import Settings

PUBLISHED_BY = "cli"
INVALID, REFUSED = 2, 1


async def _publish(settings: Settings, draft: PriceListDraft) -> price_lists.Publication:
    engine = make_engine(settings.database_url)
    try:
        uow = UnitOfWork(make_sessionmaker(engine))
        return await price_lists.publish(uow, draft, PUBLISHED_BY, system_clock())
    finally:
        await engine.dispose()


def publish(path: Path, price_list_id: str) -> int:
    if not is_identifier(price_list_id):
        return _fail(f"{price_list_id!r} is not a valid price list id (letters, digits, ._:@-)")
    try:
        draft = read_price_list_file(path, price_list_id)
    except OSError as exc:
        return _fail(f"cannot read {path}: {exc.strerror}")
    except ValidationError as exc:
        return _fail(f"{path} is not a valid price list:", *map(_describe, exc.errors()))
    try:
        done = asyncio.run(_publish(Settings(), draft))
    except InvalidPriceList as exc:
        return _fail(
            f"{path} breaks the publishing rules:", *(f"{e.field}: {e.code}" for e in exc.errors)
        )
    except PriceListInForce:
        return _fail(
            f"price list {price_list_id} is in force and is never edited: "
            "publish a new one with a later valid_from",
            status=REFUSED,
        )
    listed = done.price_list
    state = "in force now" if done.in_force else f"takes over at {listed.valid_from.isoformat()}"
    print(f"price list {listed.id}: {done.outcome.value} ({state})")  # noqa: T201
    return 0


def _describe(error: Any) -> str:
    location = [part for part in error["loc"] if part != "body"]
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in location).lstrip(".")
    return f"{field or 'file'}: {error['msg']}"


def _fail(*lines: str, status: int = INVALID) -> int:
    print("\n  ".join(lines), file=sys.stderr)  # noqa: T201
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.catalog", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    publishing = commands.add_parser("publish", help="publish a price list file")
    publishing.add_argument("file", type=Path)
    publishing.add_argument("--id", help="the price list's id (default: the file's name)")
    args = parser.parse_args(argv)
    return publish(args.file, args.id or args.file.stem)


if __name__ == "__main__":
    sys.exit(main())
