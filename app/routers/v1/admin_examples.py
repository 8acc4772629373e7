"""Operation examples of the staff endpoints whose models are shared with customers'.

A mailbox mirror and an order are shown to customers too, so their model-level examples
are a customer's; these are what the staff operations send and answer, taken from the
sandbox (the account example of `admin_accounts`, then a public administration's order
fulfilled on its payment commitment).
"""

from __future__ import annotations

from typing import Any

from app.routers.v1.admin_accounts import ACCOUNT_OUT_EXAMPLE

MIRROR_REQUEST: dict[str, Any] = {
    "address": "studio.rossi@pec.example.it",
    "plan": "PRO",
    "extra_mailbox_gb": 1,
    "extra_archive_gb": 0,
    "used_mailbox_mb": 1800,
    "used_archive_mb": 2100,
    "expires_on": "2027-01-15",
    "status": "ACTIVE",
    "account_id": "acc-rossi",
    "partner_id": None,
}
MIRROR_RESPONSE: dict[str, Any] = {
    "id": "mbx-rossi-studio",
    **MIRROR_REQUEST,
    "auto_renewal": False,
    "auto_renewal_years": 1,
    "renewable": True,
    "renewal_blockers": [],
    "holder_on_file": {**ACCOUNT_OUT_EXAMPLE["holder_on_file"], "source": "account"},
    "scheduled_change": None,
}


def _eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


COMMITTED_ORDER: dict[str, Any] = {
    "id": "ord_d6eab0989ef64e03a0093b8e99653b83",
    "number": "PEC-2026-0000002",
    "status": "FULFILLED",
    "quote_id": "quo_0311df4bbbbf48039138f79140cb53ef",
    "payment_method": "bank_transfer",
    "years": 1,
    "holder_name": "Comune di Milano",
    "holder_email": "protocollo@comune.milano.example.it",
    "split_payment": True,
    "items": [
        {
            "mailbox_id": "mbx-comune-protocollo",
            "address": "protocollo@pec.comune.milano.example.it",
            "current_plan": "PRO",
            "plan": "PRO",
            "extra_mailbox_gb": 1,
            "extra_archive_gb": 0,
            "deletes_archive": False,
            "quoted_new_expiry": "2028-01-15",
            "takes_effect": "at_payment",
            "effective_on": "2026-11-25",
        }
    ],
    "net": _eur("28.00"),
    "vat": _eur("6.16"),
    "total": _eur("34.16"),
    "payable": _eur("28.00"),
    "refunded": _eur("0.00"),
    "payment_instructions": {
        "method": "bank_transfer",
        "registered": "next_working_day",
        "amount": _eur("28.00"),
        "description": "PEC-2026-0000002",
        "iban": "IT60X0542811101000000123456",
        "beneficiary": "PEC Provider S.p.A.",
        "postal_account": None,
        "payment_url": None,
    },
    "created_at": "2026-11-25T10:00:00.029842Z",
    "paid_at": None,
    "fulfilled_at": "2026-11-25T10:00:00.175638Z",
    "commitment_at": "2026-11-25T10:00:00.175638Z",
    "closed_at": None,
    "automatic_renewal": False,
    "placed_automatically": False,
}


def json_example(value: Any) -> dict[str, Any]:
    """A response's `content` with one example (FastAPI adds the schema beside it)."""
    return {"application/json": {"example": value}}
