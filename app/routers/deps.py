"""Typed dependencies: what a handler may ask for, by name."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import InvalidToken
from app.container import Container
from app.db.unit_of_work import UnitOfWork
from app.domain.access import Principal, Role
from app.routers.messages import pick_language
from app.routers.problems import ProblemError
from app.services.catalog_cache import CatalogCache

# Dependencies are `async def` on purpose: a plain `def` is sent to the thread pool.
_bearer = HTTPBearer(auto_error=False, description="A JWT with `sub`, `role` and `exp`.")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_uow(container: ContainerDep) -> UnitOfWork:
    return container.unit_of_work()


async def get_catalog(container: ContainerDep) -> CatalogCache:
    return container.catalog


async def get_now(container: ContainerDep) -> datetime:
    return container.clock()


async def get_language(accept_language: Annotated[str | None, Header()] = None) -> str:
    return pick_language(accept_language)


async def get_principal(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise ProblemError(401, "not_authenticated", _CHALLENGE)
    try:
        return await container.tokens.verify(credentials.credentials)
    except InvalidToken:
        raise ProblemError(401, "not_authenticated", _CHALLENGE) from None


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
CatalogDep = Annotated[CatalogCache, Depends(get_catalog)]
NowDep = Annotated[datetime, Depends(get_now)]
LanguageDep = Annotated[str, Depends(get_language)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_staff(principal: PrincipalDep) -> Principal:
    if principal.role is not Role.STAFF:
        raise ProblemError(403, "forbidden")
    return principal


StaffDep = Annotated[Principal, Depends(get_staff)]
IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Replays the first answer for the same key and body.",
    ),
]
