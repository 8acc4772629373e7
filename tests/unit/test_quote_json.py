"""POST /v1/quotes encodes its answer without the models: the same bytes as QuoteOut."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from app.db.quote_documents import quote_from_document, quote_to_document
from app.domain.access import Principal, Role
from app.domain.issues import PendingOrderExists
from app.domain.quote import Quote, quote_renewal
from app.domain.quote_record import QuoteRecord
from app.routers.v1.quote_schemas import QuoteOut, quote_json
from tests.unit.test_quote_properties import CATALOG, NOW, PROMO_CATALOG, Scenario, scenarios

# What FastAPI does with a returned QuoteOut: validate it as the response model, then
# dump it to JSON through the same adapter.
QUOTE_OUT = TypeAdapter(QuoteOut)
OWNER = Principal(Role.CUSTOMER, "acc-1")
pending_orders = st.dictionaries(
    st.sampled_from([f"mbx-{n}" for n in range(4)]),
    st.builds(PendingOrderExists, st.none() | st.just("ord-1")),
)


def through_the_models(record: QuoteRecord, language: str, now: object) -> bytes:
    model = QUOTE_OUT.validate_python(QuoteOut.of(record, language, now))  # type: ignore[arg-type]
    return QUOTE_OUT.dump_json(model)


def stored_and_read_back(quote: Quote) -> Quote:
    """As a replay or GET reads it: from its JSON document (another UTC tzinfo object)."""
    return quote_from_document(quote_to_document(quote))


@given(
    scenarios(),
    pending_orders,
    st.sampled_from(["it", "en"]),
    st.sampled_from([timedelta(0), timedelta(days=2)]),  # ok or blocked; expired
    st.booleans(),
    st.booleans(),
)
def test_the_quick_encoding_is_the_models_byte_for_byte(
    scenario: Scenario,
    pending: dict[str, PendingOrderExists],
    language: str,
    later: timedelta,
    promotion: bool,
    stored: bool,
) -> None:
    request, boxes = scenario
    catalog = PROMO_CATALOG if promotion else CATALOG
    quote = quote_renewal(request, boxes, catalog, NOW, pending_orders=pending)
    if stored:
        quote = stored_and_read_back(quote)
    record = QuoteRecord("quo_1", OWNER, quote, "0" * 64)
    now = NOW + later

    assert quote_json(record, language, now) == through_the_models(record, language, now)


@given(scenarios())
def test_a_quote_stored_before_effective_on_existed_encodes_it_as_null(
    scenario: Scenario,
) -> None:
    request, boxes = scenario
    quote = quote_renewal(request, boxes, CATALOG, NOW)
    old = quote._replace(items=tuple(i._replace(effective_on=None) for i in quote.items))
    record = QuoteRecord("quo_1", OWNER, old, "0" * 64)

    encoded = quote_json(record, "it", NOW)

    assert b'"effective_on":null' in encoded
    assert encoded == through_the_models(record, "it", NOW)
