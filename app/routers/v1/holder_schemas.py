"""Holder and billing data, as orders, accounts and mailbox mirrors take and show them."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from app.domain.billing import (
    CIG,
    CUP,
    OFFICE_CODE,
    SDI_CODE,
    Billing,
    EInvoicing,
    Holder,
    HolderKind,
    PublicAdministrationBilling,
    tax_code_problem,
)
from app.domain.holder_record import HolderOnFile, HolderRecord, HolderSource
from app.routers.v1.fields import NoControlCharacters, Text, TextInContract

_EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+$"
UpperCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32),
    NoControlCharacters,
    TextInContract,
]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    NoControlCharacters,
    Field(json_schema_extra={"pattern": _EMAIL_PATTERN}),  # the contract: no control characters
]


def _matching(pattern: re.Pattern[str], code: str) -> AfterValidator:
    """The domain's format check of a billing code, run here too so it is reported with
    every other mistake of the body in one 422 (same field, same code as the domain's)."""

    def check(value: str) -> str:
        if not pattern.match(value):
            raise PydanticCustomError(code, "invalid format")
        return value

    return AfterValidator(check)


SdiCode = Annotated[UpperCode, _matching(SDI_CODE, "invalid_sdi_code")]
OfficeCode = Annotated[UpperCode, _matching(OFFICE_CODE, "invalid_office_code")]
CigCode = Annotated[UpperCode, _matching(CIG, "invalid_cig")]
CupCode = Annotated[UpperCode, _matching(CUP, "invalid_cup")]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


# The sandbox's customer acc-rossi (valid check digits).
HOLDER_IN_EXAMPLE: JsonDict = {
    "kind": "person",
    "name": "Mario Rossi",
    "tax_code": "RSSMRA85T10A562S",
    "email": "mario.rossi@example.it",
    "address": "Via Roma 1",
    "postal_code": "00100",
    "city": "Roma",
    "province": "RM",
    "country": "IT",
}


class HolderIn(_Strict):
    """Who holds the mailboxes and is invoiced (intestatario)."""

    model_config = ConfigDict(json_schema_extra={"examples": [HOLDER_IN_EXAMPLE]})

    kind: HolderKind = Field(
        strict=False,
        description="`person`, `sole_trader`, `company`, `professional` or "
        "`public_administration`: decides which tax id and billing data apply.",
    )
    name: Text = Field(description="Full name, or the company's or office's name.")
    tax_code: UpperCode = Field(
        description="A person's codice fiscale (16 characters); any other kind's partita "
        "IVA (11 digits). Check digits are verified; letters are upper-cased.",
        examples=["RSSMRA85T10A562S"],
    )
    email: Email = Field(description="Reference address: confirmation and instructions.")
    address: Text = Field(description="Street and number.", examples=["Via Roma 1"])
    postal_code: Annotated[str, StringConstraints(pattern=r"^\d{5}$")] = Field(
        description="CAP: 5 digits.", examples=["00100"]
    )
    city: Text = Field(description="City (comune).", examples=["Roma"])
    province: Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$")] = Field(
        description="Province: its 2-letter code.", examples=["RM"]
    )
    country: Literal["IT"] = Field(default="IT", description="Only Italy (`IT`) for now.")

    @field_validator("tax_code")
    @classmethod
    def _tax_code_checks(cls, tax_code: str, info: ValidationInfo) -> str:
        # The domain's check, run here too so a bad check digit is reported beside any
        # other mistake of the body, in the same 422 (the domain still checks on its own).
        kind = info.data.get("kind")
        problem = tax_code_problem(kind, tax_code) if isinstance(kind, HolderKind) else None
        if problem:
            raise PydanticCustomError(problem, "invalid tax code")
        return tax_code

    def to_domain(self) -> Holder:
        return Holder(
            self.kind,
            self.name,
            self.tax_code,
            self.email.lower(),
            self.address,
            self.postal_code,
            self.city,
            self.province.upper(),
            self.country,
        )  # fmt: skip


class EInvoicingIn(_Strict):
    """Exactly one: `sdi_code` (Codice Destinatario), `pec`, or `none: true`."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"sdi_code": "ABC1234", "pec": None, "none": False}]}
    )

    sdi_code: SdiCode | None = Field(
        default=None,
        description="Codice Destinatario: 7 letters or digits.",
        examples=["ABC1234"],
    )
    pec: Email | None = Field(
        default=None, description="The PEC address e-invoices are delivered to."
    )
    none: bool = Field(
        default=False,
        description="true: no e-invoicing address (invoices in the tax portal's reserved "
        "area); only with neither `sdi_code` nor `pec`.",
    )


class PublicAdministrationIn(_Strict):
    """A public administration's invoicing data (required with that holder `kind`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"office_code": "UFY9MH", "cig": "Z1A2B3C4D5", "cup": None, "split_payment": True}
            ]
        }
    )

    office_code: OfficeCode = Field(description="Codice Univoco Ufficio (6 characters).")
    cig: CigCode = Field(
        description="Codice Identificativo Gara: 10 characters.", examples=["Z1A2B3C4D5"]
    )
    cup: CupCode | None = Field(
        default=None,
        description="Codice Unico di Progetto (15 characters), where the purchase has one.",
    )
    split_payment: bool = Field(
        description="true: split payment (scissione dei pagamenti): the office pays the net "
        "and the VAT to the State."
    )


class BillingIn(_Strict):
    """Invoicing data beside the holder: an e-invoicing address, or a PA's office codes."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "e_invoicing": {"sdi_code": "ABC1234", "pec": None, "none": False},
                    "public_administration": None,
                }
            ]
        }
    )

    e_invoicing: EInvoicingIn | None = Field(
        default=None,
        description="Where e-invoices go: a company, sole trader or professional gives "
        "exactly one of `sdi_code` and `pec`; a person may omit it; a public administration "
        "is invoiced through its `office_code` instead.",
    )
    public_administration: PublicAdministrationIn | None = Field(
        default=None,
        description="Required when the holder's `kind` is `public_administration`, refused "
        "otherwise.",
    )

    def to_domain(self) -> Billing:
        e, pa = self.e_invoicing, self.public_administration
        return Billing(
            EInvoicing(e.sdi_code, e.pec, e.none) if e else None,
            PublicAdministrationBilling(pa.office_code, pa.cig, pa.cup, pa.split_payment)
            if pa
            else None,
        )


def record_of(holder: HolderIn | None, billing: BillingIn | None) -> HolderRecord | None:
    """The record a request gives: a holder with its billing (none given: no billing data)."""
    if holder is None:
        return None
    return HolderRecord(holder.to_domain(), (billing or BillingIn()).to_domain())


class HolderOut(BaseModel):
    """A holder as stored: the fields of `HolderIn`, normalised."""

    kind: HolderKind = Field(description="The holder's kind (see `HolderIn.kind`).")
    name: str = Field(description="Full name, or the company's or office's name.")
    tax_code: str = Field(description="Codice fiscale or partita IVA, upper-case.")
    email: str = Field(description="Reference address, lower-case.")
    address: str = Field(description="Street and number.")
    postal_code: str = Field(description="CAP: 5 digits.")
    city: str = Field(description="City (comune).")
    province: str = Field(description="Province: its 2-letter code, upper-case.")
    country: str = Field(description="Country code: `IT`.")


class EInvoicingOut(BaseModel):
    """The e-invoicing address on file: one of the three is set."""

    sdi_code: str | None = Field(description="Codice Destinatario; null: not this way.")
    pec: str | None = Field(description="PEC address for e-invoices; null: not this way.")
    none: bool = Field(description="true: no e-invoicing address.")


class PublicAdministrationOut(BaseModel):
    """A public administration's invoicing data on file."""

    office_code: str = Field(description="Codice Univoco Ufficio.")
    cig: str = Field(description="Codice Identificativo Gara.")
    cup: str | None = Field(description="Codice Unico di Progetto; null: none.")
    split_payment: bool = Field(description="true: split payment applies.")


class BillingOut(BaseModel):
    """Invoicing data on file beside the holder."""

    e_invoicing: EInvoicingOut | None = Field(description="Null: none on file (a person).")
    public_administration: PublicAdministrationOut | None = Field(
        description="Null: the holder is not a public administration."
    )


class HolderRecordOut(BaseModel):
    """A holder with its billing data."""

    holder: HolderOut = Field(description="Who holds the mailboxes and is invoiced.")
    billing: BillingOut = Field(description="How they are invoiced.")

    @classmethod
    def of(cls, record: HolderRecord) -> HolderRecordOut:
        h, e, pa = record.holder, record.billing.e_invoicing, record.billing.public_administration
        return cls(
            holder=HolderOut(
                kind=h.kind,
                name=h.name,
                tax_code=h.tax_code,
                email=h.email,
                address=h.address,
                postal_code=h.postal_code,
                city=h.city,
                province=h.province,
                country=h.country,
            ),
            billing=BillingOut(
                e_invoicing=EInvoicingOut(sdi_code=e.sdi_code, pec=e.pec, none=e.none)
                if e
                else None,
                public_administration=PublicAdministrationOut(
                    office_code=pa.office_code,
                    cig=pa.cig,
                    cup=pa.cup,
                    split_payment=pa.split_payment,
                )
                if pa
                else None,
            ),
        )


class HolderOnFileOut(HolderRecordOut):
    """The holder an order would use if it gave none, and where it comes from."""

    source: HolderSource = Field(
        description="`mailbox`: the mailbox's own holder; `account`: its account's."
    )

    @classmethod
    def of_file(cls, on_file: HolderOnFile) -> HolderOnFileOut:
        record = HolderRecordOut.of(on_file.record)
        return cls(holder=record.holder, billing=record.billing, source=on_file.source)
