"""Holder and billing data (docs/domain.md, Order): tax ids, e-invoicing, PA data.

The reference tax ids are checked with python-stdnum first, so a test never rests on
a made-up number; a variant with one wrong character must then be rejected.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.it import codicefiscale, iva

from app.domain.billing import (
    Billing,
    EInvoicing,
    Holder,
    HolderKind,
    PublicAdministrationBilling,
    billing_errors,
)
from app.domain.errors import FieldError

VALID_CF = "RSSMRA85T10A562S"  # a person's codice fiscale
VALID_PIVA = "00743110157"  # a company's partita IVA
VALID_PA_CODE = "80016350821"  # a PA's codice fiscale numerico (P.IVA check digit)

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
LEGAL_ENTITIES = [HolderKind.SOLE_TRADER, HolderKind.COMPANY, HolderKind.PROFESSIONAL]
PA_FIELD = "billing.public_administration"
EINVOICING_FIELD = "billing.e_invoicing"
SDI = EInvoicing(sdi_code="ABC1234")
PA_DATA = PublicAdministrationBilling("UFH2KD", "Z1A2B3C4D5", None, split_payment=True)


def test_reference_tax_ids_are_valid_for_python_stdnum() -> None:
    assert codicefiscale.is_valid(VALID_CF)
    assert iva.is_valid(VALID_PIVA)
    assert iva.is_valid(VALID_PA_CODE)


def holder(kind: HolderKind = HolderKind.PERSON, **changes: object) -> Holder:
    tax_code = {
        HolderKind.PERSON: VALID_CF,
        HolderKind.PUBLIC_ADMINISTRATION: VALID_PA_CODE,
    }.get(kind, VALID_PIVA)
    base = Holder(
        kind=kind,
        name="Mario Rossi",
        tax_code=tax_code,
        email="mario.rossi@example.it",
        address="Via Roma 1",
        postal_code="20121",
        city="Milano",
        province="MI",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def pa_billing(**changes: object) -> Billing:
    return Billing(public_administration=replace(PA_DATA, **changes))  # type: ignore[arg-type]


def error_codes(errors: list[FieldError]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in errors]


def with_char(text: str, position: int, char: str) -> str:
    return text[:position] + char + text[position + 1 :]


# --- the happy paths -----------------------------------------------------------------


def test_a_person_with_a_valid_codice_fiscale_needs_no_e_invoicing() -> None:
    assert billing_errors(holder(), Billing()) == []


@pytest.mark.parametrize("kind", LEGAL_ENTITIES)
@pytest.mark.parametrize(
    "einvoicing",
    [
        EInvoicing(sdi_code="ABC1234"),
        EInvoicing(pec="fatture@pec.example.it"),
        EInvoicing(none=True),
    ],
    ids=["sdi_code", "pec", "none"],
)
def test_a_legal_entity_with_exactly_one_e_invoicing_identifier_is_accepted(
    kind: HolderKind, einvoicing: EInvoicing
) -> None:
    assert billing_errors(holder(kind), Billing(e_invoicing=einvoicing)) == []


@pytest.mark.parametrize("cup", [None, "J11B22000330001"])
@pytest.mark.parametrize("split_payment", [True, False])
def test_a_public_administration_with_office_code_cig_and_optional_cup_is_accepted(
    cup: str | None, split_payment: bool
) -> None:
    billing = pa_billing(cup=cup, split_payment=split_payment)

    assert billing_errors(holder(HolderKind.PUBLIC_ADMINISTRATION), billing) == []
    assert billing.split_payment is split_payment


def test_only_a_public_administration_block_can_ask_for_split_payment() -> None:
    assert Billing(e_invoicing=SDI).split_payment is False


# --- codice fiscale ------------------------------------------------------------------


def test_a_codice_fiscale_is_checked_after_normalisation() -> None:
    spaced_lowercase = " rssmra85t10a562s "
    assert billing_errors(holder(tax_code=spaced_lowercase), Billing()) == []


@pytest.mark.parametrize(
    "tax_code",
    [
        "RSSMRA85T10A562T",  # wrong check character
        "RSSMRA85T10A563S",  # one digit changed
        "RSSMRB85T10A562S",  # one letter changed
        "RSSMRA85Z10A562S",  # no month is Z
        "RSSMRA85T10A562",  # too short
        "",
    ],
)
def test_a_codice_fiscale_with_one_wrong_character_is_rejected(tax_code: str) -> None:
    errors = billing_errors(holder(tax_code=tax_code), Billing())
    assert error_codes(errors) == [("holder.tax_code", "invalid_codice_fiscale")]


@given(
    position=st.integers(0, len(VALID_CF) - 1),
    replacement=st.sampled_from(LETTERS + DIGITS),
)
def test_any_same_class_substitution_in_a_codice_fiscale_is_caught(
    position: int, replacement: str
) -> None:
    # letter for letter or digit for digit: the check character always notices
    original = VALID_CF[position]
    same_class = LETTERS if original in LETTERS else DIGITS
    if replacement == original or replacement not in same_class:
        replacement = same_class[(same_class.index(original) + 1) % len(same_class)]
    variant = with_char(VALID_CF, position, replacement)

    errors = billing_errors(holder(tax_code=variant), Billing())
    assert error_codes(errors) == [("holder.tax_code", "invalid_codice_fiscale")]


def test_a_person_is_not_checked_as_a_partita_iva() -> None:
    errors = billing_errors(holder(tax_code="00743110158"), Billing())
    assert error_codes(errors) == [("holder.tax_code", "invalid_codice_fiscale")]


# --- partita IVA (legal entities) and codice fiscale numerico (PA) ------------------------


@pytest.mark.parametrize("kind", LEGAL_ENTITIES)
def test_a_legal_entity_with_a_valid_partita_iva_is_accepted(kind: HolderKind) -> None:
    assert billing_errors(holder(kind, tax_code=VALID_PIVA), Billing(e_invoicing=SDI)) == []


@pytest.mark.parametrize("kind", LEGAL_ENTITIES)
@pytest.mark.parametrize(
    "tax_code",
    [
        "00743110158",  # wrong check digit
        "00743110147",  # one digit changed
        "0074311015",  # too short
        "007431101570",  # too long
        VALID_CF,  # a person's codice fiscale is not a partita IVA
        "",
    ],
)
def test_a_legal_entity_with_a_wrong_partita_iva_is_rejected(
    kind: HolderKind, tax_code: str
) -> None:
    errors = billing_errors(holder(kind, tax_code=tax_code), Billing(e_invoicing=SDI))
    assert error_codes(errors) == [("holder.tax_code", "invalid_partita_iva")]


@given(
    reference=st.sampled_from([VALID_PIVA, VALID_PA_CODE]),
    position=st.integers(0, 10),
    shift=st.integers(1, 9),
)
def test_any_single_digit_change_in_a_partita_iva_is_caught(
    reference: str, position: int, shift: int
) -> None:
    wrong_digit = str((int(reference[position]) + shift) % 10)
    variant = with_char(reference, position, wrong_digit)
    kind = HolderKind.COMPANY if reference == VALID_PIVA else HolderKind.PUBLIC_ADMINISTRATION
    billing = Billing(e_invoicing=SDI) if kind is HolderKind.COMPANY else pa_billing()

    errors = billing_errors(holder(kind, tax_code=variant), billing)
    assert error_codes(errors) == [("holder.tax_code", "invalid_partita_iva")]


def test_a_public_administration_tax_code_is_checked_like_a_partita_iva() -> None:
    pa = HolderKind.PUBLIC_ADMINISTRATION
    assert billing_errors(holder(pa, tax_code=VALID_PA_CODE), pa_billing()) == []
    errors = billing_errors(holder(pa, tax_code="80016350822"), pa_billing())
    assert error_codes(errors) == [("holder.tax_code", "invalid_partita_iva")]


def test_an_invalid_holder_email_is_reported() -> None:
    errors = billing_errors(holder(email="mario.rossi@"), Billing())
    assert error_codes(errors) == [("holder.email", "invalid_email")]


# --- e-invoicing: exactly one identifier ---------------------------------------------


@pytest.mark.parametrize("kind", LEGAL_ENTITIES)
@pytest.mark.parametrize("billing", [Billing(), Billing(e_invoicing=EInvoicing())])
def test_a_legal_entity_without_an_e_invoicing_identifier_is_rejected(
    kind: HolderKind, billing: Billing
) -> None:
    errors = billing_errors(holder(kind), billing)
    assert error_codes(errors) == [(EINVOICING_FIELD, "einvoicing_identifier_required")]


@pytest.mark.parametrize("kind", LEGAL_ENTITIES)
@pytest.mark.parametrize(
    "einvoicing",
    [
        EInvoicing(sdi_code="ABC1234", pec="fatture@pec.example.it"),
        EInvoicing(sdi_code="ABC1234", none=True),
        EInvoicing(pec="fatture@pec.example.it", none=True),
        EInvoicing(sdi_code="ABC1234", pec="fatture@pec.example.it", none=True),
    ],
    ids=["sdi+pec", "sdi+none", "pec+none", "all_three"],
)
def test_a_legal_entity_with_two_or_more_identifiers_is_ambiguous(
    kind: HolderKind, einvoicing: EInvoicing
) -> None:
    errors = billing_errors(holder(kind), Billing(e_invoicing=einvoicing))
    assert error_codes(errors) == [(EINVOICING_FIELD, "einvoicing_ambiguous")]


@pytest.mark.parametrize("sdi_code", ["ABC1234", "0000000", "M5UXCR1", "1234567"])
def test_a_codice_destinatario_of_seven_alphanumerics_is_accepted(sdi_code: str) -> None:
    billing = Billing(e_invoicing=EInvoicing(sdi_code=sdi_code))
    assert billing_errors(holder(HolderKind.COMPANY), billing) == []


@pytest.mark.parametrize(
    "sdi_code", ["ABC123", "ABC12345", "ABC-123", "ABC 123", "ABC123!", "", "ÀBC1234"]
)
def test_a_codice_destinatario_that_is_not_seven_alphanumerics_is_rejected(sdi_code: str) -> None:
    billing = Billing(e_invoicing=EInvoicing(sdi_code=sdi_code))
    errors = billing_errors(holder(HolderKind.COMPANY), billing)
    assert error_codes(errors) == [("billing.e_invoicing.sdi_code", "invalid_sdi_code")]


def test_an_e_invoicing_pec_must_be_an_email_address() -> None:
    billing = Billing(e_invoicing=EInvoicing(pec="not-an-address"))
    errors = billing_errors(holder(HolderKind.COMPANY), billing)
    assert error_codes(errors) == [("billing.e_invoicing.pec", "invalid_email")]


# --- public administrations ----------------------------------------------------------


def test_a_public_administration_must_give_its_pa_block() -> None:
    errors = billing_errors(holder(HolderKind.PUBLIC_ADMINISTRATION), Billing())
    assert error_codes(errors) == [(PA_FIELD, "public_administration_required")]


@pytest.mark.parametrize("office_code", ["UFH2K", "UFH2KDX", "UFH-2K", ""])
def test_a_pa_office_code_must_be_six_characters(office_code: str) -> None:
    errors = billing_errors(
        holder(HolderKind.PUBLIC_ADMINISTRATION), pa_billing(office_code=office_code)
    )
    assert error_codes(errors) == [(f"{PA_FIELD}.office_code", "invalid_office_code")]


@pytest.mark.parametrize("cig", ["Z1A2B3C4D", "Z1A2B3C4D5E", "Z1A2B3C4D!", ""])
def test_a_cig_must_be_ten_characters(cig: str) -> None:
    errors = billing_errors(holder(HolderKind.PUBLIC_ADMINISTRATION), pa_billing(cig=cig))
    assert error_codes(errors) == [(f"{PA_FIELD}.cig", "invalid_cig")]


@pytest.mark.parametrize("cup", ["J11B2200033000", "J11B22000330001X", "J11B2200033000!", ""])
def test_a_cup_when_given_must_be_fifteen_characters(cup: str) -> None:
    errors = billing_errors(holder(HolderKind.PUBLIC_ADMINISTRATION), pa_billing(cup=cup))
    assert error_codes(errors) == [(f"{PA_FIELD}.cup", "invalid_cup")]


@pytest.mark.parametrize(
    "einvoicing",
    [
        EInvoicing(sdi_code="ABC1234"),
        EInvoicing(pec="fatture@pec.example.it"),
        EInvoicing(none=True),
    ],
    ids=["sdi_code", "pec", "none"],
)
def test_a_public_administration_is_invoiced_only_through_its_office_code(
    einvoicing: EInvoicing,
) -> None:
    billing = Billing(e_invoicing=einvoicing, public_administration=PA_DATA)
    errors = billing_errors(holder(HolderKind.PUBLIC_ADMINISTRATION), billing)
    assert error_codes(errors) == [(EINVOICING_FIELD, "einvoicing_ambiguous")]


@pytest.mark.parametrize("kind", [HolderKind.PERSON, *LEGAL_ENTITIES])
def test_pa_data_on_a_holder_that_is_not_a_pa_is_rejected(kind: HolderKind) -> None:
    einvoicing = None if kind is HolderKind.PERSON else SDI
    billing = Billing(e_invoicing=einvoicing, public_administration=PA_DATA)

    errors = billing_errors(holder(kind), billing)
    assert error_codes(errors) == [(PA_FIELD, "not_a_public_administration")]


# --- every mistake at once -----------------------------------------------------------


def test_a_legal_entity_gets_every_error_at_once() -> None:
    bad_company = holder(HolderKind.COMPANY, tax_code="00743110158", email="nobody")
    billing = Billing(
        e_invoicing=EInvoicing(sdi_code="ABC", pec="nope", none=True),
        public_administration=PA_DATA,
    )

    assert set(error_codes(billing_errors(bad_company, billing))) == {
        ("holder.tax_code", "invalid_partita_iva"),
        ("holder.email", "invalid_email"),
        ("billing.e_invoicing.sdi_code", "invalid_sdi_code"),
        ("billing.e_invoicing.pec", "invalid_email"),
        (EINVOICING_FIELD, "einvoicing_ambiguous"),
        (PA_FIELD, "not_a_public_administration"),
    }


def test_a_public_administration_gets_every_error_at_once() -> None:
    bad_pa = holder(HolderKind.PUBLIC_ADMINISTRATION, tax_code="80016350822")
    billing = Billing(
        e_invoicing=EInvoicing(sdi_code="ABC1234"),
        public_administration=PublicAdministrationBilling("UF", "CIG", "CUP", split_payment=True),
    )

    assert set(error_codes(billing_errors(bad_pa, billing))) == {
        ("holder.tax_code", "invalid_partita_iva"),
        (EINVOICING_FIELD, "einvoicing_ambiguous"),
        (f"{PA_FIELD}.office_code", "invalid_office_code"),
        (f"{PA_FIELD}.cig", "invalid_cig"),
        (f"{PA_FIELD}.cup", "invalid_cup"),
    }


def test_a_person_gets_every_error_at_once() -> None:
    bad_person = holder(tax_code="RSSMRA85T10A562T", email="")
    billing = Billing(public_administration=PA_DATA)

    assert set(error_codes(billing_errors(bad_person, billing))) == {
        ("holder.tax_code", "invalid_codice_fiscale"),
        ("holder.email", "invalid_email"),
        (PA_FIELD, "not_a_public_administration"),
    }
