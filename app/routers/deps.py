"""Typed dependencies: what a handler may ask for, by name.

Few and `async`: each dependency node costs FastAPI real time per request, and a plain
`def` one is sent to the thread pool. Most handlers need just `CallerDep`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import VERIFIED_PRINCIPAL, InvalidToken
from app.container import Container
from app.domain.access import Principal, Role
from app.routers.messages import pick_language
from app.routers.problems import ProblemError

_bearer = HTTPBearer(auto_error=False, description="A JWT with `sub`, `role` and `exp`.")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, and what the handler needs to serve them."""

    principal: Principal
    container: Container
    now: datetime
    language: str  # "it" or "en", from Accept-Language


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


async def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    container: Container = request.app.state.container
    if credentials is None:
        raise ProblemError(401, "not_authenticated", _CHALLENGE)
    try:
        principal = await container.tokens.verify(credentials.credentials)
    except InvalidToken as bad:
        raise _refused(bad) from None
    return _caller(request, container, principal)


def known_caller(request: Request) -> Caller | None:
    """What get_caller gives, when the bearer token was verified before (no work done);
    None otherwise (app/routers/lean_route.py then lets get_caller decide)."""
    container: Container = request.app.state.container
    principal: Principal | None = request.scope.get("state", {}).get(VERIFIED_PRINCIPAL)
    if principal is None:  # not verified in this request yet: verified in an earlier one?
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        principal = container.tokens.known(token)
    return None if principal is None else _caller(request, container, principal)


def _caller(request: Request, container: Container, principal: Principal) -> Caller:
    language = pick_language(request.headers.get("accept-language"))
    return Caller(principal, container, container.clock(), language)


def _refused(bad: InvalidToken) -> ProblemError:
    """RFC 6750: a token was sent but is no good; `token_expired` tells a client to refresh."""
    code, description = (
        ("token_expired", "The token has expired")
        if bad.expired
        else ("invalid_token", "The token is not valid")
    )
    challenge = f'Bearer error="invalid_token", error_description="{description}"'
    return ProblemError(401, code, {"WWW-Authenticate": challenge})


async def get_staff_caller(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
    if caller.principal.role is not Role.STAFF:
        raise ProblemError(403, "forbidden")
    return caller


async def get_partner_caller(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
    if caller.principal.role is not Role.PARTNER:
        raise ProblemError(403, "forbidden")
    return caller


async def check_access(request: Request, dependant: Dependant) -> None:
    """Run a route's authentication and role checks alone, as they would run for it.

    FastAPI parses and validates the request before (or beside) the dependencies, but
    api.md puts 401 and 403 first: the validation handler calls this, which raises the
    ProblemError the caller deserves, if any. It is generic over the route's dependency
    tree: `get_caller` authenticates, and any dependency that takes only the caller (like
    `get_staff_caller`, or a role check added later in the same shape) is run with it.
    Routes without `get_caller` (health, webhooks, the price list) pass.
    """
    tree = list(_walk(dependant))
    if not any(node.call is get_caller for node in tree):
        return
    caller = await get_caller(request, await _bearer(request))
    for node in tree:
        if node.call is not None and node.call is not get_caller and _takes_only_caller(node):
            await node.call(**{node.dependencies[0].name or "caller": caller})


def _walk(dependant: Dependant) -> list[Dependant]:
    found = []
    for sub in dependant.dependencies:
        found += [sub, *_walk(sub)]
    return found


def _takes_only_caller(node: Dependant) -> bool:
    plain = not (
        node.path_params
        or node.query_params
        or node.header_params
        or node.cookie_params
        or node.body_params
    )
    return plain and [sub.call for sub in node.dependencies] == [get_caller]


ContainerDep = Annotated[Container, Depends(get_container)]
CallerDep = Annotated[Caller, Depends(get_caller)]
StaffCallerDep = Annotated[Caller, Depends(get_staff_caller)]
PartnerCallerDep = Annotated[Caller, Depends(get_partner_caller)]
IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        # Printable ASCII: an empty key would be one key shared by every client.
        pattern=r"^[!-~](?:[ -~]*[!-~])?$",
        description="Replays the first answer for the same key and body (1–255 printable "
        "characters).",
    ),
]
