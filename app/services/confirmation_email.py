"""The order confirmation: what was ordered, what to pay, and how — in Italian or English."""

from __future__ import annotations

from typing import Any

from app.domain.money import Money
from app.domain.payment_instructions import PaymentInstructions

EMAIL = "email"

_TEXT = {
    "it": {
        "subject": "Conferma ordine {number}: rinnovo caselle PEC",
        "greeting": "Gentile {name},",
        "intro": "abbiamo ricevuto il tuo ordine {number} per il rinnovo di:",
        "item": "- {address}: {plan}, {years} anni, nuova scadenza {new_expiry}",
        "totals": "Imponibile {net} - IVA {vat} - Totale {total}",
        "payable": "Importo da pagare: {payable}",
        "split": "(scissione dei pagamenti: l'IVA è versata dall'ente all'Erario)",
        "bank_transfer": (
            "Paga con bonifico bancario a {beneficiary}, IBAN {iban}, indicando come "
            "causale esattamente: {description}. Il pagamento è registrato il giorno "
            "lavorativo successivo."
        ),
        "postal_slip_prefilled": (
            "Paga con il bollettino precompilato sul conto {postal_account} intestato a "
            "{beneficiary}, causale {description}. Il pagamento è registrato in giornata."
        ),
        "postal_slip": (
            "Paga con bollettino postale sul conto {postal_account} intestato a "
            "{beneficiary}, causale {description}. Il pagamento è registrato in 5-7 giorni "
            "lavorativi."
        ),
        "card": "Paga con carta di credito qui: {payment_url}",
        "paypal": "Paga con PayPal qui: {payment_url}",
        "partner_credit": "L'ordine è stato pagato con il credito prepagato del Partner.",
        "archive": "Attenzione: l'archivio di sicurezza delle caselle declassate sarà cancellato.",
        "closing": "Il rinnovo sarà completato appena il pagamento sarà registrato.",
    },
    "en": {
        "subject": "Order {number} confirmed: PEC mailbox renewal",
        "greeting": "Dear {name},",
        "intro": "we have received your order {number} to renew:",
        "item": "- {address}: {plan}, {years} years, new expiry {new_expiry}",
        "totals": "Net {net} - VAT {vat} - Total {total}",
        "payable": "Amount to pay: {payable}",
        "split": "(split payment: the administration pays the VAT to the Treasury)",
        "bank_transfer": (
            "Pay by bank transfer to {beneficiary}, IBAN {iban}, with exactly this "
            "description: {description}. The payment is registered the next working day."
        ),
        "postal_slip_prefilled": (
            "Pay with the prefilled postal slip on account {postal_account} ({beneficiary}), "
            "description {description}. The payment is registered the same day."
        ),
        "postal_slip": (
            "Pay with a postal slip on account {postal_account} ({beneficiary}), "
            "description {description}. The payment is registered in 5-7 working days."
        ),
        "card": "Pay by card here: {payment_url}",
        "paypal": "Pay with PayPal here: {payment_url}",
        "partner_credit": "The order was paid from the Partner's prepaid credit.",
        "archive": "Note: the security archive of downgraded mailboxes will be deleted.",
        "closing": "The renewal completes as soon as the payment is registered.",
    },
}


def confirmation_email(
    *,
    language: str,
    number: str,
    holder_name: str,
    to: str,
    years: int,
    items: list[dict[str, Any]],
    net: Money,
    vat: Money,
    total: Money,
    payable: Money,
    split_payment: bool,
    instructions: PaymentInstructions,
) -> dict[str, str]:
    """The message as the outbox stores it: recipient, subject, plain text."""
    text = _TEXT.get(language, _TEXT["it"])
    lines = [text["greeting"].format(name=holder_name), "", text["intro"].format(number=number)]
    lines += [
        text["item"].format(
            address=item["address"],
            plan=item["target_plan"],
            years=years,
            new_expiry=item["quoted_new_expiry"],
        )
        for item in items
    ]
    lines += ["", text["totals"].format(net=net, vat=vat, total=total)]
    lines.append(text["payable"].format(payable=payable))
    if split_payment:
        lines.append(text["split"])
    lines += ["", text[instructions.method.value].format(**_fields(instructions))]
    if any(item["deletes_archive"] for item in items):
        lines += ["", text["archive"]]
    lines += ["", text["closing"]]
    return {
        "to": to,
        "subject": text["subject"].format(number=number),
        "text": "\n".join(lines) + "\n",
        "language": language,
    }


def _fields(instructions: PaymentInstructions) -> dict[str, str]:
    return {
        "beneficiary": instructions.beneficiary or "",
        "iban": instructions.iban or "",
        "description": instructions.description or "",
        "postal_account": instructions.postal_account or "",
        "payment_url": instructions.payment_url or "",
    }
