"""Who the order is for and how they are invoiced: holder, e-invoicing, PA data.

Tax ids are checked with python-stdnum (check digits included). Each rule yields a
FieldError with a stable code, all of them at once, so a form can show every mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from stdnum.it import codicefiscale, iva

from app.domain.errors import FieldError

SDI_CODE = re.compile(r"^[A-Z0-9]{7}$")  # Codice Destinatario
OFFICE_CODE = re.compile(r"^[A-Z0-9]{6}$")  # Codice Univoco Ufficio (IPA)
CIG = re.compile(r"^[A-Z0-9]{10}$")
CUP = re.compile(r"^[A-Z0-9]{15}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PA = "billing.public_administration"


class HolderKind(StrEnum):
    PERSON = "person"
    SOLE_TRADER = "sole_trader"
    COMPANY = "company"
    PROFESSIONAL = "professional"
    PUBLIC_ADMINISTRATION = "public_administration"

    @property
    def is_legal_entity(self) -> bool:
        return self in (HolderKind.SOLE_TRADER, HolderKind.COMPANY, HolderKind.PROFESSIONAL)


@dataclass(frozen=True, slots=True)
class Holder:
    kind: HolderKind
    name: str
    tax_code: str  # codice fiscale (person), partita IVA (entity), CF numerico (PA)
    email: str  # the reference address: confirmations and payment instructions go here
    address: str
    postal_code: str
    city: str
    province: str
    country: str = "IT"


@dataclass(frozen=True, slots=True)
class EInvoicing:
    """Exactly one of: a Codice Destinatario, a PEC address, or none (tax portal only)."""

    sdi_code: str | None = None
    pec: str | None = None
    none: bool = False

    def identifiers_given(self) -> int:
        return (self.sdi_code is not None) + (self.pec is not None) + bool(self.none)


@dataclass(frozen=True, slots=True)
class PublicAdministrationBilling:
    office_code: str
    cig: str
    cup: str | None
    split_payment: bool


@dataclass(frozen=True, slots=True)
class Billing:
    e_invoicing: EInvoicing | None = None
    public_administration: PublicAdministrationBilling | None = None

    @property
    def split_payment(self) -> bool:
        return self.public_administration is not None and self.public_administration.split_payment


def billing_errors(holder: Holder, billing: Billing) -> list[FieldError]:
    """Everything wrong with the holder and billing data (empty: all good)."""
    errors = _tax_code_errors(holder)
    if not EMAIL.match(holder.email):
        errors.append(FieldError("holder.email", "invalid_email"))
    einvoicing = billing.e_invoicing
    if einvoicing is not None:
        errors += _einvoicing_format_errors(einvoicing)
    if holder.kind.is_legal_entity:
        given = einvoicing.identifiers_given() if einvoicing else 0
        if given != 1:
            code = "einvoicing_identifier_required" if given == 0 else "einvoicing_ambiguous"
            errors.append(FieldError("billing.e_invoicing", code))
        if billing.public_administration is not None:
            errors.append(FieldError(PA, "not_a_public_administration"))
    elif holder.kind is HolderKind.PUBLIC_ADMINISTRATION:
        errors += _public_administration_errors(billing)
    elif billing.public_administration is not None:
        errors.append(FieldError(PA, "not_a_public_administration"))
    return errors


def _tax_code_errors(holder: Holder) -> list[FieldError]:
    code = tax_code_problem(holder.kind, holder.tax_code)
    return [FieldError("holder.tax_code", code)] if code else []


@lru_cache(maxsize=4096)
def tax_code_problem(kind: HolderKind, tax_code: str) -> str | None:
    """The error code for a holder's tax code, None when valid: a person's codice fiscale;
    an entity's or a PA's partita IVA (11 digits) — check digits included. Remembered:
    an order checks its holder's twice (the request, then the domain), and the same
    holders come back order after order."""
    if kind is HolderKind.PERSON:
        return None if codicefiscale.is_valid(tax_code) else "invalid_codice_fiscale"
    return None if iva.is_valid(tax_code) else "invalid_partita_iva"


def _einvoicing_format_errors(einvoicing: EInvoicing) -> list[FieldError]:
    errors: list[FieldError] = []
    if einvoicing.sdi_code is not None and not SDI_CODE.match(einvoicing.sdi_code):
        errors.append(FieldError("billing.e_invoicing.sdi_code", "invalid_sdi_code"))
    if einvoicing.pec is not None and not EMAIL.match(einvoicing.pec):
        errors.append(FieldError("billing.e_invoicing.pec", "invalid_email"))
    return errors


def _public_administration_errors(billing: Billing) -> list[FieldError]:
    pa = billing.public_administration
    if pa is None:
        return [FieldError(PA, "public_administration_required")]
    errors: list[FieldError] = []
    if billing.e_invoicing is not None and billing.e_invoicing.identifiers_given():
        # A PA is invoiced through its Codice Univoco Ufficio, and through nothing else.
        errors.append(FieldError("billing.e_invoicing", "einvoicing_ambiguous"))
    if not OFFICE_CODE.match(pa.office_code):
        errors.append(FieldError(f"{PA}.office_code", "invalid_office_code"))
    if not CIG.match(pa.cig):
        errors.append(FieldError(f"{PA}.cig", "invalid_cig"))
    if pa.cup is not None and not CUP.match(pa.cup):
        errors.append(FieldError(f"{PA}.cup", "invalid_cup"))
    return errors
