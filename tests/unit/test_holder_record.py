"""The holder on file, as pure rules: which record a mailbox has, which one an order uses,
and the round trip through the JSON documents the records are stored as."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.db.holder_documents import record_from_documents, record_to_documents
from app.domain.billing import Billing, EInvoicing, Holder, HolderKind, PublicAdministrationBilling
from app.domain.errors import InvalidRequest
from app.domain.holder_record import (
    HolderOnFile,
    HolderRecord,
    HolderRequired,
    HolderSource,
    check_holder_record,
    common_holder_on_file,
    holder_on_file,
    order_holder,
)

MARIO = Holder(
    HolderKind.PERSON,
    "Mario Rossi",
    "RSSMRA85T10A562S",
    "mario.rossi@example.it",
    "Via Roma 1",
    "00100",
    "Roma",
    "RM",
)
COMPANY = replace(MARIO, kind=HolderKind.COMPANY, name="Rossi Srl", tax_code="00743110157")
MARIO_ON_FILE = HolderRecord(MARIO, Billing())
COMPANY_ON_FILE = HolderRecord(COMPANY, Billing(EInvoicing(sdi_code="ABC1234")))


def field_codes(error: InvalidRequest) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in error.errors]


def test_a_mailboxs_own_holder_comes_before_its_accounts() -> None:
    assert holder_on_file(COMPANY_ON_FILE, MARIO_ON_FILE) == HolderOnFile(
        COMPANY_ON_FILE, HolderSource.MAILBOX
    )
    assert holder_on_file(None, MARIO_ON_FILE) == HolderOnFile(MARIO_ON_FILE, HolderSource.ACCOUNT)
    assert holder_on_file(None, None) is None


def test_mailboxes_sharing_one_holder_on_file_give_it_to_the_order() -> None:
    on_file = {
        "mbx-1": HolderOnFile(MARIO_ON_FILE, HolderSource.ACCOUNT),
        "mbx-2": HolderOnFile(MARIO_ON_FILE, HolderSource.MAILBOX),
    }
    assert common_holder_on_file(on_file) == MARIO_ON_FILE


def test_mailboxes_with_different_holders_on_file_need_the_holder_given() -> None:
    on_file = {
        "mbx-1": HolderOnFile(MARIO_ON_FILE, HolderSource.ACCOUNT),
        "mbx-2": HolderOnFile(COMPANY_ON_FILE, HolderSource.MAILBOX),
    }
    with pytest.raises(HolderRequired) as raised:
        common_holder_on_file(on_file)
    assert raised.value.code == "holder_required"
    assert field_codes(raised.value) == [("holder", "holders_on_file_differ")]


@pytest.mark.parametrize(
    "on_file",
    [{}, {"mbx-1": None}, {"mbx-1": HolderOnFile(MARIO_ON_FILE, HolderSource.ACCOUNT), "x": None}],
    ids=["no-mailbox", "none-on-file", "one-without"],
)
def test_a_mailbox_without_a_holder_on_file_needs_the_holder_given(
    on_file: dict[str, HolderOnFile | None],
) -> None:
    with pytest.raises(HolderRequired) as raised:
        common_holder_on_file(on_file)
    assert field_codes(raised.value) == [("holder", "holder_required")]


def test_an_order_that_gives_a_holder_uses_it_and_no_billing_by_default() -> None:
    assert order_holder(COMPANY, None, MARIO_ON_FILE) == (HolderRecord(COMPANY, Billing()), False)


def test_an_order_that_omits_both_uses_the_record_on_file() -> None:
    assert order_holder(None, None, COMPANY_ON_FILE) == (COMPANY_ON_FILE, True)


def test_billing_given_alone_goes_with_the_holder_on_file_and_is_new_data() -> None:
    billing = Billing(EInvoicing(pec="fatture@pec.example.it"))
    assert order_holder(None, billing, COMPANY_ON_FILE) == (HolderRecord(COMPANY, billing), False)


def test_an_order_with_no_holder_and_none_on_file_is_refused() -> None:
    with pytest.raises(HolderRequired):
        order_holder(None, None, None)


def test_a_record_is_checked_as_an_orders_holder_is() -> None:
    check_holder_record(COMPANY_ON_FILE)
    with pytest.raises(InvalidRequest) as raised:
        check_holder_record(HolderRecord(replace(MARIO, tax_code="RSSMRA85T10A562X"), Billing()))
    assert field_codes(raised.value) == [("holder.tax_code", "invalid_codice_fiscale")]


_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)


@given(
    kind=st.sampled_from(HolderKind),
    name=_text,
    einvoicing=st.one_of(
        st.none(), st.builds(EInvoicing, st.none() | _text, st.none() | _text, st.booleans())
    ),
    pa=st.one_of(
        st.none(),
        st.builds(PublicAdministrationBilling, _text, _text, st.none() | _text, st.booleans()),
    ),
)
def test_a_record_survives_its_json_documents(
    kind: HolderKind,
    name: str,
    einvoicing: EInvoicing | None,
    pa: PublicAdministrationBilling | None,
) -> None:
    record = HolderRecord(replace(MARIO, kind=kind, name=name), Billing(einvoicing, pa))
    documents = json.loads(json.dumps(record_to_documents(record)))  # as the database keeps it
    assert record_from_documents(documents["holder"], documents["billing"]) == record
    assert record_to_documents(None) == {"holder": None, "billing": None}
