"""Rate limits per caller, per payment provider and per address that fails to authenticate,
shared by every api process through Redis (docs/rate-limits.md).

A pure ASGI middleware rather than a FastAPI dependency:
* it refuses before FastAPI reads, parses and validates the body, so a flood costs least;
* it adds the RateLimit headers to every answer of a limited operation, those that return
  a Response of their own (orders) included, which a dependency's `Response` can't; it
  sits inside the request context (app/middleware.py) and hands them to it, rather than
  wrapping `send` a second time;
* the routes stay as they are; requests to other paths pay one prefix check.

It runs on every quote and order, so its usual request is kept short (issue 10: it cost a
quote 8-9% of its CPU): a caller is remembered by its raw Authorization header until its
token expires, and the counters decide an allowed hit without building windows.

Per caller means per authenticated principal (role and subject), not per token string: a
client that refreshes its token keeps its budget, two tabs of one person share one, and
no bearer token is ever written into Redis.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import cached_property

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.adapters.payment_webhooks import PROVIDERS
from app.auth import VERIFIED_PRINCIPAL, InvalidToken, TokenVerifier
from app.domain.access import Principal
from app.metrics import Metrics
from app.middleware import RESPONSE_HEADERS
from app.rate_limit_policy import PER_CALLER_POSTS, LimitedGroup, Policy, limited_group
from app.rate_limit_store import Counters, Decision, InProcessCounters, RedisCounters
from app.routers.problems import problem_response
from app.settings import Settings

log = logging.getLogger("app.rate_limits")
WEBHOOKS_PREFIX = "/v1/webhooks/payments/"
# Public and hot: never authenticated, so never limited nor counted.
UNLIMITED_PATHS = frozenset({"/v1/plans"})


class RateLimits:
    """The policies from the settings and the counters they are kept in."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.enabled = settings.rate_limits_enabled
        notations = {
            LimitedGroup.QUOTES: settings.rate_limit_quotes,
            LimitedGroup.ORDERS: settings.rate_limit_orders,
            LimitedGroup.SANDBOX: settings.rate_limit_sandbox,
            LimitedGroup.WEBHOOKS: settings.rate_limit_webhooks,
            LimitedGroup.FAILED_AUTH: settings.rate_limit_failed_auth,
        }
        self.policies = {group: Policy.of(group, text) for group, text in notations.items()}
        self.refused = metrics.rate_limited
        self.store_errors = metrics.rate_limit_store_errors
        self._redis_url = settings.redis_url
        self._key_prefix = settings.rate_limit_key_prefix

    @cached_property
    def counters(self) -> Counters:
        if self._redis_url:
            return RedisCounters(self._redis_url, self._key_prefix, self.store_errors.inc)
        return InProcessCounters()

    async def close(self) -> None:
        if "counters" in self.__dict__:
            await self.counters.close()


def install_rate_limits(app: FastAPI, limits: RateLimits, tokens: TokenVerifier) -> None:
    """Add the middleware (nothing at all when RATE_LIMITS_ENABLED is false)."""
    if limits.enabled:
        limits.counters  # noqa: B018 - built now: a bad REDIS_URL fails at startup
        app.add_middleware(RateLimitMiddleware, limits=limits, tokens=tokens)


class RateLimitMiddleware:
    # Callers remembered by their Authorization header; past this many they start over.
    CALLERS_KEPT = 4096

    def __init__(self, app: ASGIApp, limits: RateLimits, tokens: TokenVerifier) -> None:
        self.app = app
        self.limits = limits
        self.counters = limits.counters
        self.tokens = tokens
        self.failed_auth = limits.policies[LimitedGroup.FAILED_AUTH]
        # Callers by their raw Authorization header: nothing decoded, split or formatted
        # on a known caller's request. Filled only once the token was verified.
        self._callers: dict[bytes, _Caller] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        group = PER_CALLER_POSTS.get(path) if scope["method"] == "POST" else None
        if group is None:  # not a quote nor an order: is it limited at all?
            if not path.startswith("/v1/") or path in UNLIMITED_PATHS:
                await self.app(scope, receive, send)
                return
            group = limited_group(scope["method"], path)
            if group is LimitedGroup.WEBHOOKS:
                provider = path[len(WEBHOOKS_PREFIX) :]
                if provider in PROVIDERS:  # an unknown one is a 404 that makes no key
                    policy = self.limits.policies[group]
                    await self._limited(policy, provider, scope, receive, send)
                else:
                    await self.app(scope, receive, send)
                return
        authorization = _authorization(scope)
        caller = self._callers.get(authorization) if authorization is not None else None
        if caller is None or caller.expires_at <= time.time():
            await self._first_seen(group, authorization, scope, receive, send)
            return
        # The route takes the principal from here (no second lookup).
        scope["state"][VERIFIED_PRINCIPAL] = caller.principal
        if group is None:
            await self.app(scope, receive, send)
            return
        await self._limited(self.limits.policies[group], caller.identity, scope, receive, send)

    async def _first_seen(
        self,
        group: LimitedGroup | None,
        authorization: bytes | None,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        """A request whose Authorization header this middleware has not seen verified."""
        token = _bearer_token(authorization) if authorization is not None else None
        principal = self.tokens.known(token) if token is not None else None
        if token is not None and principal is None:
            # A token not verified in this process yet: its address's failed
            # authentications are checked before its signature is.
            address = _client_address(scope)
            blocked = await self.counters.peek(self.failed_auth, address)
            if blocked is not None and not blocked.allowed:
                await self._refuse(self.failed_auth, blocked, scope, receive, send)
                return
            if group is not None:
                principal = await self._verify(token)
            send = self._counting_failures(address, send)
        if principal is None:
            await self.app(scope, receive, send)  # the route answers (401 without a token)
            return
        assert authorization is not None  # a principal came from its token
        assert token is not None
        caller = self._remember(authorization, token, principal)
        scope["state"][VERIFIED_PRINCIPAL] = principal
        if group is None:
            await self.app(scope, receive, send)
            return
        await self._limited(self.limits.policies[group], caller.identity, scope, receive, send)

    def _remember(self, authorization: bytes, token: str, principal: Principal) -> _Caller:
        known = self.tokens.known_until(token)
        identity = f"{principal.role.value}:{principal.subject}"
        caller = _Caller(principal, identity, known[1] if known is not None else 0.0)
        if len(self._callers) >= self.CALLERS_KEPT:
            self._callers.clear()
        self._callers[authorization] = caller
        return caller

    async def _limited(
        self, policy: Policy, identity: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        decision = await self.counters.hit(policy, identity)
        if decision is None:  # the store failed: served unlimited (logged, counted)
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            await self._refuse(policy, decision, scope, receive, send)
            return
        # Sent with every answer, whoever answers (orders return a Response of their own).
        scope["state"][RESPONSE_HEADERS] += _rate_limit_headers(policy, decision)
        await self.app(scope, receive, send)

    async def _refuse(
        self, policy: Policy, decision: Decision, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self.limits.refused.labels(policy.name).inc()
        headers = {
            "Retry-After": str(decision.reset_seconds),
            **{k.decode(): v.decode() for k, v in _rate_limit_headers(policy, decision)},
        }
        response = problem_response(
            Request(scope),
            429,
            "rate_limited",
            params={"retry_after": decision.reset_seconds},
            headers=headers,
        )
        await response(scope, receive, send)

    async def _verify(self, token: str) -> Principal | None:
        """The caller, to key its budget by; a bad token is left to the route to refuse."""
        try:
            return await self.tokens.verify(token)
        except InvalidToken:
            return None

    def _counting_failures(self, address: str, send: Send) -> Send:
        """`send`, counting a 401 against the address."""
        counters, policy = self.counters, self.failed_auth

        async def send_counting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                await counters.hit(policy, address)
            await send(message)

        return send_counting


def _rate_limit_headers(policy: Policy, decision: Decision) -> list[tuple[bytes, bytes]]:
    state = policy.state_header(decision.index, decision.remaining, decision.reset_seconds)
    return [policy.header, state]


@dataclass(frozen=True, slots=True)
class _Caller:
    """A verified token's principal, the key its budget is counted under, and when the
    token expires (it is verified again after)."""

    principal: Principal
    identity: str
    expires_at: float


def _authorization(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value  # type: ignore[no-any-return]
    return None


def _bearer_token(authorization: bytes) -> str | None:
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
