"""RFC 9457 problem details: every error leaves the service in this one shape.

Domain and service errors are facts; this module alone decides their HTTP status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, WithJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from app.clock import ClockJumpTooFar, ClockWentBack
from app.db.transient import DRIVER_UNAVAILABLE, DriverError
from app.domain import order as order_rules
from app.domain.errors import (
    ConventionCodeInvalid,
    DomainError,
    InvalidRequest,
    MailboxNotFound,
)
from app.domain.money import Money
from app.domain.order_aggregate import CommitmentNotApplicable
from app.domain.webhook_endpoint import WebhookSecretInvalid, WebhookUrlRefused
from app.routers.field_hints import field_bounds, hint_params
from app.routers.messages import message, pick_language
from app.routers.problem_codes import FIELD_CODES, PROBLEM_CODES, enum_schema
from app.services.errors import (
    CatalogUnavailable,
    CreditLimitExceeded,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    MailboxAddressTaken,
    MailboxNotRenewable,
    PaymentEventAlreadyApplied,
    PaymentEventNotStored,
    PriceListInForce,
    ResourceNotFound,
    UnknownOwner,
)
from app.services.orders import NotAPublicAdministration
from app.services.partner_webhook_delivery import WebhookEndpointNotSet

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("app.errors")


def _absent(value: object) -> bool:
    return value is None  # extension members appear only on the problems that have them


# Plain strings at run time (a new code must never fail a response); enums in the contract.
ProblemCode = Annotated[
    str, WithJsonSchema(enum_schema(PROBLEM_CODES, "Stable, machine-readable: switch on it."))
]
FieldCode = Annotated[
    str, WithJsonSchema(enum_schema(FIELD_CODES, "What is wrong with the field, stable."))
]


class FieldProblem(BaseModel):
    """One offending field of a request."""

    field: str = Field(
        examples=["items[0].extra_mailbox_gb"],
        description="Where: a dotted path into the body (`items[0].plan`), or a query "
        "parameter or header name (`cursor`, `Idempotency-Key`); `body` for the whole body.",
    )
    code: FieldCode
    message: str = Field(description="For people, in the language of `Content-Language`.")


class Problem(BaseModel):
    """An error (RFC 9457). `code` is stable and machine-readable; texts are not."""

    type: str = Field(
        examples=["urn:pec-renewal:problem:validation_failed"],
        description="A URN naming the problem: `urn:pec-renewal:problem:` + `code`.",
    )
    title: str = Field(description="A short sentence for people, in the response's language.")
    status: int = Field(description="The HTTP status, repeated.", examples=[422])
    detail: str = Field(description="What happened, for people (may say more than `title`).")
    code: ProblemCode
    instance: str | None = Field(
        default=None, description="The request's path.", examples=["/v1/quotes"]
    )
    errors: list[FieldProblem] = Field(
        default_factory=list,
        description="Every offending field (validation problems); empty otherwise.",
    )
    # Extension members (RFC 9457 §3.2), sent only by the problems named.
    order_id: str | None = Field(
        default=None,
        exclude_if=_absent,
        description="`pending_order_exists`, `quote_already_ordered`: the order in the way.",
    )
    mailbox_id: str | None = Field(
        default=None,
        exclude_if=_absent,
        description="`pending_order_exists`: the mailbox that has it.",
    )
    create_with: str | None = Field(
        default=None,
        exclude_if=_absent,
        description="`unknown_owner`: the call that creates the missing owner.",
        examples=["PUT /v1/admin/accounts/acc-1"],
    )
    price_list_id: str | None = Field(
        default=None, exclude_if=_absent, description="`price_list_in_force`: that list's id."
    )
    outcome: str | None = Field(
        default=None,
        exclude_if=_absent,
        description="`payment_event_already_applied`: what applying it did.",
    )


class ProblemError(Exception):
    """Raised by handlers and dependencies for errors that are pure HTTP (401, 413…)."""

    def __init__(
        self,
        status: int,
        code: str,
        headers: dict[str, str] | None = None,
        detail: str = "",
        errors: Sequence[tuple[str, str, dict[str, Any]]] = (),
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.headers = headers
        self.detail = detail
        self.errors = errors


def problem_response(
    request: Request,
    status: int,
    code: str,
    errors: Sequence[tuple[str, str, dict[str, Any]]] = (),
    params: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    detail: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    language = pick_language(request.headers.get("accept-language"))
    body = Problem(
        type=f"urn:pec-renewal:problem:{code}",
        title=message(code, language, params),
        status=status,
        detail=detail or message(code, language, params),
        code=code,
        instance=request.url.path,
        errors=[
            FieldProblem(field=field, code=field_code, message=message(field_code, language, p))
            for field, field_code, p in errors
        ],
    )
    response_headers = {"Content-Language": language, **(headers or {})}
    return JSONResponse(
        {**body.model_dump(mode="json"), **(extra or {})},
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=response_headers,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(ProblemError, _problem_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(DriverError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)


@dataclass(frozen=True, slots=True)
class _Facts:
    """What a domain error's problem says beyond its status and code: the offending
    fields, the parameters of its message, extension members and headers."""

    errors: Sequence[tuple[str, str, dict[str, Any]]] = ()
    params: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


def _no_facts(_exc: Any) -> _Facts:
    return _Facts()


def _retry_soon(_exc: Any) -> _Facts:
    """Worth retrying in a few seconds (the payment provider delivers an event again)."""
    return _Facts(headers={"Retry-After": "5"})


def _on_field(name: str) -> Callable[[Any], _Facts]:
    """The error is about one field of the request, named by its own code."""
    return lambda exc: _Facts(errors=[(name, exc.code, {})])


def _members(*names: str) -> Callable[[Any], _Facts]:
    """The error's attributes are both its message's parameters and extension members."""

    def facts(exc: Any) -> _Facts:
        params = {name: getattr(exc, name) for name in names}
        return _Facts(params=params, extra=params)

    return facts


def _invalid_request(exc: InvalidRequest) -> _Facts:
    return _Facts(errors=[(e.field, e.code, dict(e.params)) for e in exc.errors])


def _mailbox_not_found(exc: MailboxNotFound) -> _Facts:
    return _Facts(errors=[(exc.field, exc.code, {})] if exc.field else [])


def _credit_limit_exceeded(exc: CreditLimitExceeded) -> _Facts:
    params = {"ceiling": str(Money(exc.ceiling_cents))}
    return _Facts(errors=[("amount", exc.code, params)], params=params)


def _unknown_owner(exc: UnknownOwner) -> _Facts:
    params = {"create_with": exc.create_with}
    return _Facts(errors=[(exc.field, exc.code, params)], params=params, extra=params)


def _pending_order_conflict(exc: order_rules.PendingOrderConflict) -> _Facts:
    shown = {"order_id": exc.order_id, "mailbox_id": exc.mailbox_id}
    return _Facts(params={"mailbox_id": exc.mailbox_id}, extra=shown)


def _insufficient_credit(exc: order_rules.InsufficientCredit) -> _Facts:
    cents = {"needed": exc.needed_cents, "available": exc.available_cents}
    return _Facts(
        params={name: str(Money(amount)) for name, amount in cents.items()},
        # members in the API's money shape, for integrations to read
        extra={
            name: {"amount": str(Money(amount).amount), "currency": "EUR"}
            for name, amount in cents.items()
        },
    )


def _order_not_cancellable(exc: order_rules.OrderNotCancellable) -> _Facts:
    return _Facts(params={"status": exc.status.value})


def _payment_event_already_applied(exc: PaymentEventAlreadyApplied) -> _Facts:
    params = {"outcome": exc.outcome or ""}
    return _Facts(params=params, extra=params)


# Every domain and service error: its HTTP status, and how to read its facts. An error is
# looked up by its class, then by each base in turn (NotAPublicAdministration is a 409
# although it is a ResourceNotFound).
_DOMAIN_PROBLEMS: dict[type[DomainError], tuple[int, Callable[[Any], _Facts]]] = {
    InvalidRequest: (422, _invalid_request),
    ConventionCodeInvalid: (422, _on_field("convention_code")),
    MailboxNotFound: (404, _mailbox_not_found),
    NotAPublicAdministration: (409, _no_facts),
    CommitmentNotApplicable: (409, _no_facts),
    ResourceNotFound: (404, _no_facts),
    IdempotencyKeyReused: (422, _on_field("Idempotency-Key")),
    IdempotencyKeyRequired: (428, _on_field("Idempotency-Key")),
    CreditLimitExceeded: (409, _credit_limit_exceeded),
    MailboxNotRenewable: (409, _on_field("enabled")),
    MailboxAddressTaken: (409, _on_field("address")),
    UnknownOwner: (422, _unknown_owner),
    PriceListInForce: (409, _members("price_list_id")),
    order_rules.PendingOrderConflict: (409, _pending_order_conflict),
    order_rules.QuoteAlreadyOrdered: (409, _members("order_id")),
    order_rules.InsufficientCredit: (409, _insufficient_credit),
    order_rules.OrderNotCancellable: (409, _order_not_cancellable),
    order_rules.QuoteExpired: (409, _on_field("quote_id")),
    order_rules.QuoteBlocked: (409, _on_field("quote_id")),
    CatalogUnavailable: (503, _no_facts),
    PaymentEventNotStored: (503, _retry_soon),
    PaymentEventAlreadyApplied: (409, _payment_event_already_applied),
    ClockWentBack: (409, _members("now")),
    ClockJumpTooFar: (422, _members("max_days")),
    WebhookUrlRefused: (422, _on_field("url")),
    WebhookSecretInvalid: (422, _on_field("secret")),
    WebhookEndpointNotSet: (409, _no_facts),
}


def domain_problem(error: type[DomainError]) -> tuple[int, Callable[[Any], _Facts]] | None:
    """The status of an error class and how to read its facts (None: not mapped, a bug)."""
    return next((_DOMAIN_PROBLEMS[c] for c in error.__mro__ if c in _DOMAIN_PROBLEMS), None)


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    rule = domain_problem(type(exc))
    if rule is None:
        log.error("unmapped domain error %r", exc)
        return problem_response(request, 500, "internal_error")
    status, read_facts = rule
    facts = read_facts(exc)
    return problem_response(
        request,
        status,
        exc.code,
        facts.errors,
        params=facts.params,
        headers=facts.headers,
        extra=facts.extra,
    )


async def _problem_error(request: Request, exc: ProblemError) -> JSONResponse:
    return problem_response(request, exc.status, exc.code, exc.errors, headers=exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    route = request.scope.get("route")
    route = route if isinstance(route, APIRoute) else None
    if route is not None:
        # 401 and 403 come before any validation (api.md). Imported here: deps raises
        # this module's ProblemError.
        from app.routers.deps import check_access

        try:
            await check_access(request, route.dependant)
        except ProblemError as denied:
            return await _problem_error(request, denied)
    if route is not None and route.body_field is not None and isinstance(exc.body, bytes):
        # FastAPI hands the raw bytes on when the Content-Type is not JSON (text/plain,
        # a form, none at all): a 415, after 401/403 like every other check of the body.
        return problem_response(request, 415, "unsupported_media_type")
    errors = [_field_problem(error, route) for error in exc.errors()]
    errors += _problems_beside_validation(route, exc.body, errors)
    return problem_response(request, 422, "validation_failed", errors)


def _problems_beside_validation(
    route: APIRoute | None, body: Any, found: Sequence[tuple[str, str, dict[str, Any]]]
) -> list[tuple[str, str, dict[str, Any]]]:
    """A body model may name the problems its later (domain) checks would find, so that a
    body gets them all in one answer rather than one layer at a time."""
    model = route.body_field.field_info.annotation if route and route.body_field else None
    check = getattr(model, "problems_beside_validation", None)
    if check is None:
        return []
    named = {field for field, _, _ in found}
    return [(field, code, {}) for field, code in check(body) if field not in named]


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400:  # FastAPI could not decode the body (not UTF-8): bad JSON
        return problem_response(request, 422, "validation_failed", [("body", "invalid_json", {})])
    code = {
        401: "not_authenticated",
        404: "not_found",
        405: "method_not_allowed",
        413: "request_too_large",
    }.get(exc.status_code, "invalid_value")
    return problem_response(request, exc.status_code, code, headers=exc.headers)


# The database can't be reached or has no room for us: a 503 to retry, not a bug.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    *DRIVER_UNAVAILABLE,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InternalClientError,
    # The server's statement_timeout (57014): too slow to answer now, worth a retry.
    asyncpg.exceptions.QueryCanceledError,
    ConnectionError,
    TimeoutError,  # the client's own timeouts: connect, statement (a frozen server)
)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable: %r", exc)
    return problem_response(request, 503, "database_unavailable", headers={"Retry-After": "5"})


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A driver error: a lost connection is a retryable 503; anything else is a bug."""
    assert isinstance(exc, DriverError)
    if exc.connection_invalidated or _caused_by_unavailable(exc.orig):
        return await _database_unavailable(request, exc)
    return await _unexpected_error(request, exc)


def _caused_by_unavailable(error: BaseException | None) -> bool:
    """The driver's own error may be wrapped (SQLAlchemy's asyncpg adapter raises its
    emulated DB-API error `from` the asyncpg one): look down the chain."""
    while error is not None:
        if isinstance(error, DATABASE_UNAVAILABLE):
            return True
        error = error.__cause__
    return False


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return problem_response(request, 500, "internal_error")


# pydantic error types → our stable field codes
_PYDANTIC_CODES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "json_invalid": "invalid_json",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "string_too_long": "too_long",
    "string_too_short": "required",
    "string_pattern_mismatch": "invalid_format",
    "too_long": "too_many_items",
    "too_short": "items_required",
    "control_characters": "control_characters",
    # the domain's own field checks, run by the schemas beside pydantic's (holder_schemas)
    "invalid_codice_fiscale": "invalid_codice_fiscale",
    "invalid_partita_iva": "invalid_partita_iva",
    "invalid_sdi_code": "invalid_sdi_code",
    "invalid_office_code": "invalid_office_code",
    "invalid_cig": "invalid_cig",
    "invalid_cup": "invalid_cup",
}


_LOCATIONS = ("body", "query", "path", "header")


def _field_problem(error: Any, route: APIRoute | None = None) -> tuple[str, str, dict[str, Any]]:
    kind = str(error.get("type", ""))
    location = [
        part for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")
    ]
    # For unparsable JSON the location is a character offset, not a field.
    field = "body" if kind == "json_invalid" else (_dotted(location) or "body")
    code = _PYDANTIC_CODES.get(kind)
    if code is None:
        code = "invalid_type" if kind.endswith(("_type", "_parsing")) else "invalid_value"
    context = error.get("ctx") or {}
    # The params that let the message say the fix (allowed values, range, format…).
    params = hint_params(kind, context, field_bounds(route, error.get("loc", ())))
    if field == "years" and code == "out_of_range":
        code = "frequency_not_allowed"
        params = {"min": 1, "max": 5}
    if code == "too_many_items":
        params = {"max": context.get("max_length", "")}
    return field, code, params


def _dotted(location: Sequence[Any]) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
