"""One ASGI app per test container for the whole run, instead of a fresh one per test.

FastAPI builds each route's state (its dependencies, its response model's validator) lazily,
per app, on the first request a router serves: with a new app in every test, that took
longer than most tests themselves. The app holds nothing of its own between requests (the
container, reached through `app.state.container`, is the state), so tests may share it.
"""

from __future__ import annotations

from fastapi import FastAPI

from app.container import Container
from app.logging_setup import configure_logging
from app.main import create_app

# Keyed by what create_app reads from the container besides the container itself: its
# metrics (the middleware's) and its settings but for the quote store (read per request
# through the container). The container is kept in the value so its ids stay unique.
_apps: dict[tuple[int, str], tuple[Container, FastAPI]] = {}


def app_for(container: Container) -> FastAPI:
    """The shared app, now serving `container` (as `create_app(container=container)` would)."""
    settings = container.settings
    key = (id(container.metrics), settings.model_dump_json(exclude={"quote_store"}))
    if key not in _apps:
        _apps[key] = (container, create_app(container=container))
    app = _apps[key][1]
    configure_logging(settings.log_level)  # as create_app does: logs go where this test's go
    app.state.container = container
    return app
