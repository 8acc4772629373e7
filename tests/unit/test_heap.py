"""While it serves, the app keeps startup's objects out of the garbage collector's walks and
collects young objects less often (app/heap.py: the p99 stall at 64 connections), and puts
both back when it stops."""

from __future__ import annotations

import gc

from app.heap import YOUNG_GENERATION_THRESHOLD
from app.main import create_app
from app.settings import Environment, Settings


async def test_startup_heap_is_frozen_while_serving_and_released_on_shutdown() -> None:
    app = create_app(Settings(environment=Environment.TEST, database_url="sqlite+aiosqlite://"))

    before = gc.get_threshold()
    async with app.router.lifespan_context(app):
        frozen_while_serving = gc.get_freeze_count()
        young_while_serving = gc.get_threshold()[0]

    assert frozen_while_serving > 10_000  # the routes, models and validators built at startup
    assert (
        young_while_serving == YOUNG_GENERATION_THRESHOLD
    )  # in-flight requests' objects die young
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
