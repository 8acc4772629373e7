"""Bearer JWTs: HS256 with a shared secret (development, tests) or RS256 via JWKS."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import jwt

from app.domain.access import Principal, Role
from app.settings import Settings

# scope["state"] key: the principal of the request's bearer token, put there by a layer
# that verified the token before the route did (the rate limiter: app/rate_limits.py), so
# the route need not read the token and look it up again.
VERIFIED_PRINCIPAL = "verified_principal"


class InvalidToken(Exception):
    """The token is malformed, expired, badly signed or lacks a claim.

    `expired` tells the one case a client fixes by refreshing its token from the others.
    """

    def __init__(self, reason: str, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired


class TokenVerifier:
    """Verifies bearer tokens, remembering recent good ones until they expire.

    A frontend sends the same token on every call; checking its signature once is
    enough (the signature cannot change), its expiry is checked on every use.
    """

    CACHE_SIZE = 4096

    def __init__(self, settings: Settings) -> None:
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._audience = settings.auth_jwt_audience
        self._secret = settings.auth_jwt_secret
        self._jwks = (
            jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True, lifespan=300)
            if settings.auth_jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None and known[1] > time.time():
            return known[0]
        principal, expires_at = await self._verify_signature(token)
        self._verified[token] = (principal, expires_at)
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    def known(self, token: str) -> Principal | None:
        """The principal of a token verified before and not expired yet (no work done)."""
        known = self.known_until(token)
        return None if known is None else known[0]

    def known_until(self, token: str) -> tuple[Principal, float] | None:
        """`known`, with when the token expires (a Unix time)."""
        known = self._verified.get(token)
        if known is not None and known[1] > time.time():
            return known
        return None

    async def _verify_signature(self, token: str) -> tuple[Principal, float]:
        try:
            if self._jwks is not None:
                # The JWKS fetch is blocking I/O (cached for `lifespan` seconds).
                jwk = await anyio.to_thread.run_sync(self._jwks.get_signing_key_from_jwt, token)
                claims = self._decode(token, jwk.key, "RS256")
            else:
                claims = self._decode(token, self._secret, "HS256")
            principal = Principal(Role(str(claims["role"])), str(claims["sub"]))
            return principal, float(claims["exp"])  # type: ignore[arg-type]
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken(str(exc), expired=True) from exc
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise InvalidToken(str(exc)) from exc

    def _decode(self, token: str, key: object, algorithm: str) -> dict[str, object]:
        return jwt.decode(
            token,
            key,  # type: ignore[arg-type]
            algorithms=[algorithm],
            audience=self._audience,
            options={"require": ["exp", "sub", "role"], "verify_aud": self._audience is not None},
        )


def issue_dev_token(
    secret: str, role: Role, subject: str, now: datetime | None = None, ttl: timedelta | None = None
) -> str:
    """An HS256 token for development, the sandbox and tests."""
    issued = now or datetime.now(UTC)
    claims = {
        "sub": subject,
        "role": role.value,
        "iat": issued,
        "exp": issued + (ttl or timedelta(days=30)),
    }
    return jwt.encode(claims, secret, algorithm="HS256")
