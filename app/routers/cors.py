"""Which browser origins may call the API (api.md: CORS for the configured frontend origins).

The sandbox also answers any http(s) origin on localhost or 127.0.0.1, whatever the port,
so a frontend dev server (Vite, Next, Angular…) can call `make run` without configuration.
Never outside the sandbox, and never in production.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.settings import Environment, Settings

LOCAL_DEV_ORIGINS = r"^https?://(localhost|127\.0\.0\.1)(:\d{1,5})?$"
ALLOWED_HEADERS = [
    "Accept-Language",
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-None-Match",
    "X-Request-ID",
]
# What a frontend reads from our answers: without this a browser hides them from scripts.
EXPOSED_HEADERS = [
    "Content-Language",
    "ETag",
    "Idempotent-Replayed",
    "Location",
    "Retry-After",
    "X-Request-ID",
    "RateLimit",  # what is left of a rate limit (app/rate_limits.py)
    "RateLimit-Policy",
]


def local_dev_origins(settings: Settings) -> str | None:
    """The localhost pattern in the sandbox (never in production), else None."""
    if settings.sandbox and settings.environment is not Environment.PRODUCTION:
        return LOCAL_DEV_ORIGINS
    return None


def install_cors(app: FastAPI, settings: Settings) -> None:
    origin_regex = local_dev_origins(settings)
    if not settings.cors_origins and origin_regex is None:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_origin_regex=origin_regex,
        allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE"],
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
    )
