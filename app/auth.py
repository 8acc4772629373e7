"""Bearer JWTs: HS256 with a shared secret (development, tests) or RS256 via JWKS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio.to_thread
import jwt

from app.domain.access import Principal, Role
from app.settings import Settings


class InvalidToken(Exception):
    """The token is missing, malformed, expired, badly signed or lacks a claim."""


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._audience = settings.auth_jwt_audience
        self._secret = settings.auth_jwt_secret
        self._jwks = (
            jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True, lifespan=300)
            if settings.auth_jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                # The JWKS fetch is blocking I/O (cached for `lifespan` seconds).
                jwk = await anyio.to_thread.run_sync(self._jwks.get_signing_key_from_jwt, token)
                claims = self._decode(token, jwk.key, "RS256")
            else:
                claims = self._decode(token, self._secret, "HS256")
            return Principal(Role(str(claims["role"])), str(claims["sub"]))
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
