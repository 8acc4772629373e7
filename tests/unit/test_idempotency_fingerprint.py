"""The fingerprint of a request survives a release that adds an optional field."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from app.domain.access import Principal, Role
from app.routers.v1.idempotent_answers import idempotent_request
from app.services.idempotency import fingerprint

OWNER = Principal(Role.CUSTOMER, "acc-1")


class TopUpBefore(BaseModel):
    amount: str


class TopUpAfter(BaseModel):  # the next release: a new optional field with a default
    amount: str
    note: str | None = None
    notify: bool = False


def _fingerprint(body: BaseModel, **path: str) -> str:
    found = idempotent_request(OWNER, "top_up", "k", body, path).fingerprint
    assert found is not None
    return found


def test_a_new_optional_field_left_out_is_the_same_request() -> None:
    assert _fingerprint(TopUpBefore(amount="5.00")) == _fingerprint(TopUpAfter(amount="5.00"))


def test_another_value_is_another_request() -> None:
    assert _fingerprint(TopUpBefore(amount="5.00")) != _fingerprint(TopUpBefore(amount="6.00"))
    assert _fingerprint(TopUpAfter(amount="5.00", notify=True)) != _fingerprint(
        TopUpAfter(amount="5.00")
    )


def test_the_path_is_part_of_the_request() -> None:
    body = TopUpBefore(amount="5.00")
    assert _fingerprint(body, partner_id="ptn-1") != _fingerprint(body, partner_id="ptn-2")


def test_without_a_key_nothing_is_hashed() -> None:
    # Nothing to compare it with: a keyless quote (the everyday one) skips the work.
    assert idempotent_request(OWNER, "top_up", None, TopUpBefore(amount="5.00")).fingerprint is None


# What a validated request holds once dumped as JSON: no floats (fields.py makes a whole
# one an int and refuses the rest), integers of any size, any text.
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=2**63) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _JSON_VALUES, max_size=6))
def test_a_fingerprint_is_the_one_earlier_releases_stored(request: dict[str, object]) -> None:
    # A retry that spans a release must match the fingerprint stored before it: the
    # canonical bytes are those of the json module's sorted, compact, UTF-8 dump.
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert fingerprint(request) == hashlib.sha256(canonical.encode()).hexdigest()
