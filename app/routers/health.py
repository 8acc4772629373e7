"""Liveness, readiness and metrics: for the orchestrator and Prometheus, not for users."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.routers.deps import ContainerDep
from app.routers.problems import ProblemError
from app.routers.v1.mailbox_schemas import HealthOut

router = APIRouter(tags=["operations"])


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
    return Response(generate_latest(container.metrics.registry), media_type=CONTENT_TYPE_LATEST)
