"""Liveness, readiness and metrics: for the orchestrator and Prometheus, not for users."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.domain.order import OrderStatus
from app.routers.deps import ContainerDep
from app.routers.problems import ProblemError
from app.routers.v1.mailbox_schemas import HealthOut

router = APIRouter(tags=["operations"])
log = logging.getLogger("app.health")


@router.get("/healthz", operation_id="healthz", response_model=HealthOut)
async def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


@router.get("/readyz", operation_id="readyz", response_model=HealthOut)
async def readyz(container: ContainerDep) -> HealthOut:
    """The database answers: send traffic here."""
    try:
        async with container.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means "not ready"
        raise ProblemError(503, "database_unavailable") from None
    return HealthOut(status="ok", checked_at=container.clock())


@router.get("/metrics", operation_id="metrics", response_class=Response)
async def metrics(container: ContainerDep) -> Response:
    """Prometheus text format."""
    metrics = container.metrics
    try:
        async with container.unit_of_work() as uow:
            by_status = await uow.orders.count_by_status()
            metrics.outbox_backlog.set(await uow.outbox.backlog())
        for status in OrderStatus:
            metrics.orders.labels(status.value).set(by_status.get(status.value, 0))
    except Exception:  # the process metrics still matter when the database doesn't answer
        log.warning("metrics: database figures unavailable", exc_info=True)
    return Response(generate_latest(container.metrics.registry), media_type=CONTENT_TYPE_LATEST)
