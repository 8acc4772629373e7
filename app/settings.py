"""One settings object, read from the environment (prefix-free, as operations.md names them)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.rate_limit_policy import valid_limits

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"  # placeholders, refused in production
DEV_STRIPE_SECRET = "whsec_dev_only_stripe_secret"
DEV_GENERIC_SECRET = "whsec_ZGV2LW9ubHktZ2VuZXJpYy13ZWJob29rLXNlY3JldA=="
PLACEHOLDER_SECRETS = {DEV_JWT_SECRET, DEV_STRIPE_SECRET, DEV_GENERIC_SECRET, "", "changeme"}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


# A limit in the `limits` notation ("120/minute", "20/second;600/minute"), checked at startup.
RateLimitText = Annotated[str, AfterValidator(valid_limits)]


class QuoteStoreKind(StrEnum):
    """Where quotes are read and written (app/db/quote_store.py)."""

    AUTO = "auto"  # asyncpg on PostgreSQL, the SQLAlchemy session elsewhere
    SQLALCHEMY = "sqlalchemy"  # the SQLAlchemy session everywhere


class UnitOfWorkKind(StrEnum):
    """How use cases reach the database (app/db/lean_unit_of_work.py)."""

    AUTO = "auto"  # the lean unit of work (asyncpg on the hot path) on PostgreSQL
    SQLALCHEMY = "sqlalchemy"  # the SQLAlchemy session everywhere


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./var/pec-renewal.sqlite3"
    database_pool_size: int = Field(default=20, ge=1)
    database_max_overflow: int = Field(default=0, ge=0)
    # A database that stops answering costs a caller seconds and a 503, never a hang:
    # opening a connection, waiting for a pooled one, and each statement are bounded.
    database_connect_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    database_pool_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    database_statement_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    auth_jwt_secret: str = DEV_JWT_SECRET
    auth_jwks_url: str | None = None
    auth_jwt_audience: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    sandbox: bool = False
    log_level: str = "INFO"
    quote_validity_hours: int = Field(default=24, ge=1, le=24 * 30)
    catalog_cache_seconds: float = Field(default=30.0, ge=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    quote_store: QuoteStoreKind = QuoteStoreKind.AUTO
    # Mailboxes remembered per process to price a repeated quote without reading them
    # (app/db/mailbox_memory.py; checked by the quote's insert). 0: read every time.
    quote_mailbox_memory: int = Field(default=4096, ge=0, le=1_000_000)
    # Customers' quotes remembered per process, to place their order in one round trip
    # (app/db/order_memory.py; checked by the order's write). 0: every order reads.
    order_quote_memory: int = Field(default=4096, ge=0, le=1_000_000)
    # Customers' orders remembered per process, to apply their payment in one round trip
    # (app/db/placed_order_memory.py; checked by the payment's write). 0: every one reads.
    placed_order_memory: int = Field(default=4096, ge=0, le=1_000_000)
    # Order numbers each process keeps reserved for those orders: orders written at once
    # beyond it read for their number. A process that stops leaves them unused (a gap).
    order_numbers_reserved: int = Field(default=64, ge=1, le=10_000)
    # Writes that requests make at once sent in pipelined transactions, one group out at a
    # time (app/db/group_commit.py). False: each on its own connection.
    database_group_commit: bool = True
    unit_of_work: UnitOfWorkKind = UnitOfWorkKind.AUTO

    # Payment providers: one webhook secret each.
    stripe_webhook_secret: str = DEV_STRIPE_SECRET
    generic_webhook_secret: str = DEV_GENERIC_SECRET  # Standard Webhooks, whsec_<base64>
    # Where customers pay: shown in the confirmation email and the order.
    bank_iban: str = "IT60X0542811101000000123456"
    bank_beneficiary: str = "PEC Provider S.p.A."
    postal_account: str = "001234567"
    card_payment_url: str = "https://pay.example.it/checkout"  # + ?order=<id>
    consents_version: str = "2026-01"

    # The outbox: email over SMTP, renewals to the mail platform over HTTP.
    smtp_host: str | None = None  # None in the sandbox: emails go to the log
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "PEC Rinnovi <rinnovi@pec.example.it>"
    mail_platform_url: str | None = None  # None: renewals stay in the outbox until set
    mail_platform_token: str | None = None
    worker_interval_seconds: float = Field(default=2.0, gt=0)
    # Partner webhooks to http:// and private or loopback addresses (a receiver on
    # 127.0.0.1): for development and tests only, refused in production.
    partner_webhook_allow_local_urls: bool = False
    # Automatic renewal: the order and first charge this many days before expiry, a
    # notice this many days before that; charges go to Stripe with this secret key
    # (None: no automatic charges, except in the sandbox, which pays itself).
    auto_renewal_lead_days: int = Field(default=7, ge=2, le=60)
    auto_renewal_notice_days: int = Field(default=10, ge=1, le=60)
    stripe_api_key: str | None = None
    stripe_api_base: str = "https://api.stripe.com"
    # Rate limits (docs/rate-limits.md): per caller (role and subject), per payment
    # provider, and failed authentications per client address. A person or a single-page
    # app never reaches them; a provider's burst neither (a 429 only makes it retry).
    rate_limits_enabled: bool = True
    rate_limit_quotes: RateLimitText = "20/second;600/minute"
    rate_limit_orders: RateLimitText = "10/second;120/minute"
    rate_limit_sandbox: RateLimitText = "20/second;600/minute"
    rate_limit_webhooks: RateLimitText = "500/second"
    rate_limit_failed_auth: RateLimitText = "30/minute;300/hour"
    # Shared counters for every api process (redis://host:6379/0); None: in this process.
    redis_url: str | None = None
    rate_limit_key_prefix: str = Field(default="pec-renewal", min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _split_cors_origins(cls, data: object) -> object:
        if isinstance(data, dict):
            origins = data.get("cors_origins")
            if isinstance(origins, str):
                data["cors_origins"] = [o.strip() for o in origins.split(",") if o.strip()]
        return data

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            if self.sandbox:
                raise ValueError("SANDBOX must be off in production")
            # api.md: production verifies RS256 tokens against the identity provider's JWKS,
            # for this service's audience only.
            if self.auth_jwks_url is None or self.auth_jwt_audience is None:
                raise ValueError("set AUTH_JWKS_URL and AUTH_JWT_AUDIENCE in production")
            for name in ("stripe_webhook_secret", "generic_webhook_secret"):
                if getattr(self, name) in PLACEHOLDER_SECRETS:
                    raise ValueError(f"set {name.upper()} in production")
            if self.database_url.startswith("sqlite"):
                raise ValueError("production runs on PostgreSQL: set DATABASE_URL")
            if self.partner_webhook_allow_local_urls:
                raise ValueError("PARTNER_WEBHOOK_ALLOW_LOCAL_URLS must be off in production")
        return self

    @property
    def quote_validity(self) -> timedelta:
        return timedelta(hours=self.quote_validity_hours)
