"""Configuration fails fast on what would be unsafe in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Environment, Settings

PG = "postgresql+asyncpg://app@db/pec"
REAL_SECRETS = {
    "stripe_webhook_secret": "whsec_live_0123456789",
    "generic_webhook_secret": "whsec_bGl2ZS1nZW5lcmljLXNlY3JldC0wMTIzNDU2Nzg5",
}


def test_production_refuses_the_sandbox() -> None:
    with pytest.raises(ValidationError, match="SANDBOX"):
        Settings(
            environment=Environment.PRODUCTION,
            sandbox=True,
            database_url=PG,
            auth_jwks_url="https://idp.example/jwks",
            auth_jwt_audience="pec-renewal",
        )


def test_production_refuses_the_placeholder_secret_without_jwks() -> None:
    with pytest.raises(ValidationError, match="AUTH_JWKS_URL and AUTH_JWT_AUDIENCE"):
        Settings(environment=Environment.PRODUCTION, database_url=PG)


def test_production_refuses_sqlite() -> None:
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(
            environment=Environment.PRODUCTION,
            auth_jwks_url="https://idp.example/jwks",
            auth_jwt_audience="pec-renewal",
            **REAL_SECRETS,  # type: ignore[arg-type]
        )


def test_production_with_jwks_and_postgres_is_accepted() -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        database_url=PG,
        auth_jwks_url="https://idp/jwks",
        auth_jwt_audience="pec-renewal",
        **REAL_SECRETS,  # type: ignore[arg-type]
    )
    assert settings.sandbox is False


def test_cors_origins_come_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://app.example.it, https://m.example.it")
    assert Settings().cors_origins == ["https://app.example.it", "https://m.example.it"]


def test_production_refuses_placeholder_webhook_secrets() -> None:
    with pytest.raises(ValidationError, match="STRIPE_WEBHOOK_SECRET"):
        Settings(
            environment=Environment.PRODUCTION,
            database_url=PG,
            auth_jwks_url="https://idp/jwks",
            auth_jwt_audience="pec-renewal",
        )


def test_production_requires_an_audience_for_its_tokens() -> None:
    with pytest.raises(ValidationError, match="AUTH_JWT_AUDIENCE"):
        Settings(
            environment=Environment.PRODUCTION,
            database_url=PG,
            auth_jwks_url="https://idp/jwks",
            **REAL_SECRETS,  # type: ignore[arg-type]
        )


def test_database_timeouts_default_to_a_few_seconds() -> None:
    settings = Settings()

    assert settings.database_connect_timeout_seconds == 3
    assert settings.database_pool_timeout_seconds == 2
    assert settings.database_statement_timeout_seconds == 5


def test_database_timeouts_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_SECONDS", "30")
    settings = Settings()

    assert settings.database_connect_timeout_seconds == 1.5
    assert settings.database_pool_timeout_seconds == 0.5
    assert settings.database_statement_timeout_seconds == 30


@pytest.mark.parametrize(
    "variable",
    [
        "DATABASE_CONNECT_TIMEOUT_SECONDS",
        "DATABASE_POOL_TIMEOUT_SECONDS",
        "DATABASE_STATEMENT_TIMEOUT_SECONDS",
    ],
)
@pytest.mark.parametrize("value", ["0", "-1", "forever", "3600"])
def test_database_timeouts_refuse_none_at_all_or_an_hour(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """Zero would mean "no timeout" to PostgreSQL, and an hour is a hang by another name."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.lower()):
        Settings()
