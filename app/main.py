"""The ASGI application: `create_app()` wires everything; nothing happens at import."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.container import Container, build_container
from app.heap import freeze_startup_heap, unfreeze_heap
from app.logging_setup import configure_logging
from app.middleware import RequestContextMiddleware
from app.rate_limits import install_rate_limits
from app.route_prefilter import prefilter_routes
from app.routers import health
from app.routers.cors import install_cors
from app.routers.docs_ui import install_docs
from app.routers.openapi_document import document_contract
from app.routers.problems import install_problem_handlers
from app.routers.v1 import (
    admin,
    admin_accounts,
    admin_payments,
    admin_setup,
    mailboxes,
    orders,
    partner,
    partner_mailboxes,
    partner_statement,
    partner_webhooks,
    plans,
    quotes,
    sandbox,
    webhooks,
)
from app.routers.v1 import payment_methods as payment_methods_router
from app.settings import Settings
from app.worker import run_forever

DESCRIPTION = """
Renew PEC mailboxes: price a renewal as a **quote**, turn it into an **order**, and the
renewal completes when the payment provider's signed webhook registers the payment.

* Money is `{"amount": "113.46", "currency": "EUR"}` — a decimal string, never a float.
* Errors are `application/problem+json` (RFC 9457) with a stable `code`; messages follow
  `Accept-Language` (Italian by default, English on request).
* `Authorization: Bearer <JWT>` with `sub`, `role` (`customer`, `partner`, `staff`), `exp`.
* POSTs that create something honour `Idempotency-Key`.
"""


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or (container.settings if container else Settings())
    configure_logging(settings.log_level)
    owned = container is None
    live = container or build_container(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # In the sandbox one process does everything: the worker loop runs beside the api.
        stop = asyncio.Event()
        worker = (
            asyncio.create_task(run_forever(live, stop)) if settings.sandbox and owned else None
        )
        freeze_startup_heap()  # after startup's allocations: see app/heap.py
        yield
        unfreeze_heap()
        stop.set()
        if worker is not None:
            await worker
        if owned:
            await live.close()

    app = FastAPI(
        title="PEC renewal API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        separate_input_output_schemas=True,
        docs_url=None,  # served from local assets by install_docs: no CDN
        redoc_url=None,
        # FastAPI's native OpenTelemetry is unused here, and asking whether it is
        # configured cost every request ~5 µs of CPU (issue 10).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.container = live
    install_problem_handlers(app)

    # Included straight into the app (not through a nested /v1 router): each level of
    # router nesting is walked on every request.
    # The sandbox route is always in the contract; outside the sandbox it answers 404.
    routers = (quotes, orders, webhooks, plans, mailboxes, partner, sandbox)
    partners = (partner_mailboxes, partner_statement, partner_webhooks)
    for module in (*routers, admin, admin_accounts, admin_setup, admin_payments, *partners):
        app.include_router(module.router, prefix="/v1")
    app.include_router(payment_methods_router.router, prefix="/v1")
    app.include_router(health.router)
    install_docs(app)

    document_contract(app)
    install_rate_limits(app, live.rate_limits, live.tokens)  # inside the request context
    prefilter_routes(app)  # routing cost: see app/route_prefilter.py

    app.add_middleware(
        RequestContextMiddleware, metrics=live.metrics, max_body_bytes=settings.max_body_bytes
    )
    # Outermost, so a browser can read the request context's own answers (413, 500) too.
    install_cors(app, settings)
    return app
