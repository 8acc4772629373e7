"""Liveness, readiness and metrics: for the orchestrator and Prometheus, not for users."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.db.engine import answers
from app.domain.order import OrderStatus
from app.routers.deps import ContainerDep
from app.routers.problems import ProblemError
from app.routers.responses import problem
from app.routers.v1.mailbox_schemas import HealthOut
from app.services.business_figures import business_figures

router = APIRouter(tags=["operations"])
log = logging.getLogger("app.health")


@router.get("/healthz", operation_id="healthz", response_model=HealthOut)
async def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


# api.md: /readyz answers within 2 s, whatever the database does (the statement and
# connect timeouts alone could take longer, and a pool full of stuck requests too).
READY_WITHIN_SECONDS = 1.5
_given_up: set[asyncio.Task[None]] = set()  # checks still unwinding in the background


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=HealthOut,
    responses={503: problem("`database_unavailable`: keep traffic away for now.")},
)
async def readyz(container: ContainerDep) -> HealthOut:
    """The database answers: send traffic here."""
    check = asyncio.create_task(answers(container.engine))
    done, _ = await asyncio.wait({check}, timeout=READY_WITHIN_SECONDS)
    if check not in done:
        # Cancelled, not awaited: freeing its connection may itself wait on the database.
        check.cancel()
        _given_up.add(check)
        check.add_done_callback(_forget)
    # Any failure to reach the database in time means "not ready".
    if check not in done or check.exception() is not None:
        raise ProblemError(503, "database_unavailable", headers={"Retry-After": "5"})
    return HealthOut(status="ok", checked_at=container.clock())


def _forget(check: asyncio.Task[None]) -> None:
    _given_up.discard(check)
    if not check.cancelled():
        check.exception()  # retrieved: it was reported as a 503 already


# An excerpt of what a scrape reads (the process and latency series left out).
METRICS_EXAMPLE = """\
# HELP orders Orders by state (read from the database at scrape time).
# TYPE orders gauge
orders{state="AWAITING_PAYMENT"} 3.0
orders{state="FULFILLED"} 42.0
# HELP quotes_created_total Quotes created, by outcome (ok, blocked).
# TYPE quotes_created_total counter
quotes_created_total{outcome="ok"} 57.0
quotes_created_total{outcome="blocked"} 4.0
"""


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format.",
            "content": {"text/plain": {"schema": {"type": "string"}, "example": METRICS_EXAMPLE}},
        }
    },
)
async def metrics(container: ContainerDep) -> Response:
    """Prometheus text format."""
    metrics = container.metrics
    try:
        figures = await business_figures(container.unit_of_work())
        metrics.outbox_backlog.set(figures.outbox_backlog)
        for status in OrderStatus:
            metrics.orders.labels(status.value).set(figures.orders_by_status.get(status.value, 0))
    except Exception:  # the process metrics still matter when the database doesn't answer
        log.warning("metrics: database figures unavailable", exc_info=True)
    return Response(generate_latest(container.metrics.registry), media_type=CONTENT_TYPE_LATEST)
