"""Production tokens: RS256, verified against a JWKS fetched over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth import InvalidToken, TokenVerifier
from app.domain.access import Principal, Role
from app.settings import Settings

SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(SIGNING_KEY.public_key()))
    body = json.dumps({"keys": [{**public_jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # Polled every 50 ms rather than the default 500: shutdown() waits for the next poll.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


def _token(key: rsa.RSAPrivateKey, **claims: object) -> str:
    now = datetime.now(UTC)
    payload = {"sub": "acc-1", "role": "customer", "exp": now + timedelta(minutes=5), **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


async def test_rs256_token_signed_by_the_identity_provider_is_accepted(jwks_url: str) -> None:
    verifier = TokenVerifier(Settings(auth_jwks_url=jwks_url))

    principal = await verifier.verify(_token(SIGNING_KEY))

    assert principal == Principal(Role.CUSTOMER, "acc-1")


async def test_rs256_token_signed_by_another_key_is_rejected(jwks_url: str) -> None:
    verifier = TokenVerifier(Settings(auth_jwks_url=jwks_url))

    with pytest.raises(InvalidToken):
        await verifier.verify(_token(STRANGER_KEY))


async def test_hs256_token_is_rejected_when_jwks_is_configured(jwks_url: str) -> None:
    verifier = TokenVerifier(Settings(auth_jwks_url=jwks_url))
    forged = jwt.encode(
        {"sub": "acc-1", "role": "staff", "exp": datetime.now(UTC) + timedelta(minutes=5)},
        "a-guessable-secret-of-thirty-two-bytes!",
        algorithm="HS256",
        headers={"kid": "k1"},
    )

    with pytest.raises(InvalidToken):
        await verifier.verify(forged)


async def test_audience_is_enforced_when_configured(jwks_url: str) -> None:
    verifier = TokenVerifier(Settings(auth_jwks_url=jwks_url, auth_jwt_audience="pec-renewal"))

    assert (await verifier.verify(_token(SIGNING_KEY, aud="pec-renewal"))).subject == "acc-1"
    with pytest.raises(InvalidToken):
        await verifier.verify(_token(SIGNING_KEY, aud="another-service"))
