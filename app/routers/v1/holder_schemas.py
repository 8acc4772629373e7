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


class HolderIn(_Strict):
    kind: HolderKind = Field(strict=False)
    name: Text
    tax_code: UpperCode = Field(description="Codice fiscale (person) or partita IVA.")
    email: Email = Field(description="Reference address: confirmation and instructions.")
    address: Text
    postal_code: Annotated[str, StringConstraints(pattern=r"^\d{5}$")]
    city: Text
    province: Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$")]
    country: Literal["IT"] = "IT"

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

    sdi_code: SdiCode | None = None
    pec: Email | None = None
    none: bool = False


class PublicAdministrationIn(_Strict):
    office_code: OfficeCode = Field(description="Codice Univoco Ufficio (6 characters).")
    cig: CigCode
    cup: CupCode | None = None
    split_payment: bool


class BillingIn(_Strict):
    e_invoicing: EInvoicingIn | None = None
    public_administration: PublicAdministrationIn | None = None

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
    kind: HolderKind
    name: str
    tax_code: str
    email: str
    address: str
    postal_code: str
    city: str
    province: str
    country: str


class EInvoicingOut(BaseModel):
    sdi_code: str | None
    pec: str | None
    none: bool


class PublicAdministrationOut(BaseModel):
    office_code: str
    cig: str
    cup: str | None
    split_payment: bool


class BillingOut(BaseModel):
    e_invoicing: EInvoicingOut | None
    public_administration: PublicAdministrationOut | None


class HolderRecordOut(BaseModel):
    holder: HolderOut
    billing: BillingOut

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
    source: HolderSource = Field(
        description="`mailbox`: the mailbox's own holder; `account`: its account's."
    )

    @classmethod
    def of_file(cls, on_file: HolderOnFile) -> HolderOnFileOut:
        record = HolderRecordOut.of(on_file.record)
        return cls(holder=record.holder, billing=record.billing, source=on_file.source)
