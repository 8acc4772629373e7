"""Property-based fuzzing of every operation from the app's own OpenAPI document.

Every operation, with a customer's, a partner's and a staff token, through schemathesis's
examples, coverage and fuzzing phases, with its contract checks: no 5xx, every status
and content type documented, every body and header as the document says, and what the
document calls valid accepted (`positive_data_acceptance`). `make test` runs a bounded
number of examples; `make fuzz` (FUZZ_MAX_EXAMPLES) many more.

Schemathesis calls an ASGI app synchronously, on its own event-loop thread, so this module
does not share the session `container` (its connection pool belongs to pytest's loop): it
builds its own container on the same per-run test database, with a NullPool engine (no
connection outlives the loop that opened it), and seeds it itself.

The schema is read at import from a throwaway app's `openapi()` (pure: no request, no
database), and each case is sent to the fixture's app with `case.call(app=...)`.
`schemathesis.pytest.from_fixture` would be the lazy alternative, but schemathesis 4.32
reads `Function._nodeid`, which pytest 9 no longer has.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.pytest import _test_builder
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.container import Container, build_container
from app.db.engine import is_sqlite
from app.db.models import MailboxRow
from app.db.unit_of_work import UnitOfWork
from app.main import create_app
from app.settings import Environment, Settings
from tests import database
from tests.conftest import CUSTOMER, PARTNER, STAFF, START, TEST_SECRET
from tests.fixtures import reset_database

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "3"))


def not_a_server_error_nor_busy(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 5xx is a bug, except the declared, retryable 503 `database_unavailable`: this
    module connects afresh for every request (NullPool), and on a loaded 2-core machine
    `/readyz` (1.5 s budget) may rightly answer that the database is slow."""
    if response.status_code == 503 and "database_unavailable" in response.text:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    not_a_server_error_nor_busy,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    positive_data_acceptance,
]
# Codes a well-formed request can still earn: they depend on stored data (the price
# list's codes, a tax id's check digit, a key used before), which no schema can state.
# Any other 422 (required, invalid_type, out_of_range…) on data the contract calls
# valid means the contract and the server disagree.
DATA_DEPENDENT_CODES = frozenset(
    {
        "convention_code_invalid",
        "acknowledgement_required",
        "consent_required",
        "holder_required",
        "holders_on_file_differ",
        "unknown_owner",
        "idempotency_key_reused",
        "invalid_cursor",
        "unknown_plan",
        "unknown_signature_kit",
        "plan_not_in_price_list",
        "duplicate_mailbox",
        "frequency_not_allowed",
        "invalid_codice_fiscale",
        "invalid_partita_iva",
        "invalid_email",
        "invalid_sdi_code",
        "invalid_office_code",
        "invalid_cig",
        "invalid_cup",
        "einvoicing_identifier_required",
        "einvoicing_ambiguous",
        "public_administration_required",
        "not_a_public_administration",
        "partner_pays_by_credit",
        "payment_method_not_allowed",
        "public_administration_pays_by_transfer",
        "plans_required",
        "max_below_base",
        "duplicate_code",
        "invalid_date_range",
        "overlapping_dates",
        # a webhook URL's host and scheme, a secret's decoded length
        "webhook_url_invalid",
        "webhook_url_not_https",
        "webhook_url_not_public",
        "webhook_secret_invalid",
    }
)
# Ids hypothesis likes to generate ("0", "00") hit real mailboxes, so pricing runs too.
SEEDED_MAILBOXES = {"0": "STANDARD", "00": "PRO", "mbx-1": "PREMIUM", "A": "DOMAIN"}


def _run_in_own_loop(coroutine: Any) -> Any:
    """Run `coroutine` on a fresh loop in another thread, away from pytest-asyncio's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _settings(database_url: str) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        auth_jwt_secret=TEST_SECRET,
        log_level="WARNING",
        catalog_cache_seconds=3600,
        cors_origins=[],
    )


def _build_container(database_url: str) -> Container:
    engine = (
        None if is_sqlite(database_url) else create_async_engine(database_url, poolclass=NullPool)
    )
    return build_container(_settings(database_url), clock=lambda: START, engine=engine)


async def _seed(container: Container) -> None:
    await reset_database(container)
    today = START.date()
    async with UnitOfWork(container.sessionmaker) as uow:
        uow.session.add_all(
            [
                MailboxRow(
                    id=mailbox_id,
                    address=f"box-{n}@pec.example.it",
                    plan_code=plan,
                    extra_mailbox_gb=0,
                    extra_archive_gb=0,
                    used_mailbox_mb=300 * n,
                    used_archive_mb=0,
                    expires_on=today + timedelta(days=10 * n - 5),
                    status="ACTIVE",
                    auto_renewal=False,
                    auto_renewal_years=1,
                    account_id="acc-1",
                    partner_id="ptn-1",
                    updated_at=START,
                )
                for n, (mailbox_id, plan) in enumerate(SEEDED_MAILBOXES.items())
            ]
        )
        await uow.commit()


@pytest.fixture(scope="module")
def fuzz_app(test_database: database.TestDatabase) -> Iterator[Any]:
    container = _build_container(test_database.url)
    _run_in_own_loop(_seed(container))
    try:
        yield create_app(container=container)
    finally:
        _run_in_own_loop(container.close())


# Never connected: it only renders the OpenAPI document.
_document = create_app(_settings("sqlite+aiosqlite://")).openapi()


def _built_when_run(build: Callable[..., Any]) -> Callable[..., Any]:
    """schemathesis builds each operation's test (its examples, its coverage cases) while
    it collects, in every process that collects: under pytest-xdist every worker, for all
    78 tests, though each runs a few. Built on first run instead, in the one process that
    runs it, the same test (same operation, phases, seed and settings) costs once."""

    def build_lazily(**kwargs: Any) -> Callable[..., Any]:
        built: list[Callable[..., Any]] = []

        def run(*args: Any, **fixtures: Any) -> Any:
            if not built:
                built.append(build(**kwargs))
            try:
                return built[0](*args, **fixtures)
            finally:  # the marks schemathesis reads on the test after it ran
                run.__dict__.update(built[0].__dict__)

        given = inspect.signature(kwargs["test_func"])  # what the fixtures are: all but `case`
        run.__signature__ = given.replace(  # type: ignore[attr-defined]
            parameters=[p for name, p in given.parameters.items() if name != "case"]
        )
        return run

    return build_lazily


_test_builder.build_operation_test = _built_when_run(_test_builder.build_operation_test)


def _config(*, coverage: bool) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": coverage},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "generation": {"max-examples": MAX_EXAMPLES},
            # 422 too (schemathesis's default list has 2xx, 3xx, 401, 403, 404, 409, 429):
            # `_assert_valid_data_accepted` then allows only the codes the data explains.
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "503"]
                }
            },
            # A webhook's signature is its credential: without one, a valid body is a 400.
            "operations": [
                {
                    "include-operation-id": "receive_payment_webhook",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "400", "404", "409", "503"]
                        }
                    },
                }
            ],
        }
    )


# The coverage phase (every boundary and every kind of wrong value, deterministically)
# runs for staff, who reach every operation past its role check; `make fuzz` runs it for
# every role, with many more examples.
FULL = "FUZZ_MAX_EXAMPLES" in os.environ
every_phase = schemathesis.openapi.from_dict(_document, config=_config(coverage=True))
quick = schemathesis.openapi.from_dict(_document, config=_config(coverage=FULL))
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@quick.parametrize()
@FUZZ_SETTINGS
def test_customers_get_what_the_contract_says(case: Any, fuzz_app: Any) -> None:
    _check(case, fuzz_app, CUSTOMER)


@quick.parametrize()
@FUZZ_SETTINGS
def test_partners_get_what_the_contract_says(case: Any, fuzz_app: Any) -> None:
    _check(case, fuzz_app, PARTNER)


@every_phase.parametrize()
@FUZZ_SETTINGS
def test_staff_get_what_the_contract_says(case: Any, fuzz_app: Any) -> None:
    _check(case, fuzz_app, STAFF)


def _check(case: Any, app: Any, token: dict[str, str]) -> None:
    response = case.call(app=app, headers=token)
    case.validate_response(response, checks=CHECKS, headers=token, transport_kwargs={"app": app})
    if case.meta is not None and case.meta.generation.mode.is_positive:
        _assert_valid_data_accepted(case, response)


def _assert_valid_data_accepted(case: Any, response: Any) -> None:
    """What `positive_data_acceptance` leaves open: a 422 to a request the contract calls
    valid must be one the data explains, never one about the request's shape."""
    status = response.status_code
    if status != 422:
        return  # any other refusal is positive_data_acceptance's to judge
    problem = response.json()
    where = f"{case.method} {case.formatted_path} {case.body!r} -> {status}: {response.text[:400]}"
    codes = {error["code"] for error in problem["errors"]} or {problem["code"]}
    assert codes <= DATA_DEPENDENT_CODES, where
