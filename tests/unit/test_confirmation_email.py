"""The confirmation email as the holder reads it: plural forms, and what to do for each
payment method, in Italian and English."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.domain.money import Money
from app.domain.order import PaymentMethod
from app.domain.order_items import OrderItem
from app.domain.payment_instructions import PaymentAccounts, payment_instructions
from app.services.confirmation_email import confirmation_email, worded

ACCOUNTS = PaymentAccounts(
    iban="IT60X0542811101000000123456",
    beneficiary="PEC Provider S.p.A.",
    postal_account="12345678",
    card_payment_url="https://pay.example.it/checkout",
)
NUMBER = "2026-000042"


def _item(n: int = 1, **changes: Any) -> dict[str, Any]:
    item = {
        "mailbox_id": f"mbx-{n}",
        "address": f"mbx-{n}@pec.example.it",
        "current_plan": "STANDARD",
        "target_plan": "STANDARD",
        "extra_mailbox_gb": 0,
        "extra_archive_gb": 0,
        "deletes_archive": False,
        "quoted_new_expiry": "2027-12-25",
    }
    return item | changes


def email(
    method: PaymentMethod,
    language: str,
    years: int,
    items: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> dict[str, str]:
    arguments: dict[str, Any] = {
        "language": language,
        "number": NUMBER,
        "holder_name": "Mario Rossi",
        "to": "mario.rossi@example.it",
        "years": years,
        "items": [OrderItem(**item) for item in (items if items is not None else [_item()])],
        "net": Money(990),
        "vat": Money(218),
        "total": Money(1208),
        "payable": Money(1208),
        "split_payment": False,
        "instructions": payment_instructions(method, "ord_1", NUMBER, 1208, "EUR", ACCOUNTS),
    }
    # As the outbox keeps it (JSON) and the worker words it when it is delivered.
    queued = json.loads(json.dumps(confirmation_email(**(arguments | overrides))))
    return worded(queued)


def test_one_year_is_singular_in_italian() -> None:
    """Regression: the email said "1 anni"."""
    text = email(PaymentMethod.BANK_TRANSFER, "it", 1)["text"]
    assert "STANDARD, 1 anno," in text
    assert "1 anni" not in text


def test_one_year_is_singular_in_english() -> None:
    """Regression: the email said "1 years"."""
    text = email(PaymentMethod.BANK_TRANSFER, "en", 1)["text"]
    assert "STANDARD, 1 year," in text
    assert "1 years" not in text


def test_partner_credit_email_says_paid_not_amount_to_pay() -> None:
    """Regression: an order already paid from the partner's credit said "Amount to pay"."""
    text = email(PaymentMethod.PARTNER_CREDIT, "en", 1)["text"]
    assert "Amount to pay" not in text
    assert "Paid from" in text


# --- every method × language × years --------------------------------------------------------

YEARS_WORD = {("it", 1): "1 anno", ("it", 2): "2 anni", ("en", 1): "1 year", ("en", 2): "2 years"}
WRONG_YEARS = {
    ("it", 1): "1 anni",
    ("it", 2): "2 anno,",
    ("en", 1): "1 years",
    ("en", 2): "2 year,",
}
EVERY = {
    ("it", 1): "ogni anno",
    ("it", 2): "ogni 2 anni",
    ("en", 1): "every year",
    ("en", 2): "every 2 years",
}
AMOUNT_TO_PAY = {"it": "Importo da pagare: 12.08 EUR", "en": "Amount to pay: 12.08 EUR"}
AUTO_RENEWAL = {
    "it": "Pagando con carta o PayPal attivi il rinnovo automatico",
    "en": "Paying by card or PayPal turns automatic renewal on",
}
ALL = [
    pytest.param(method, language, years, id=f"{method.value}-{language}-{years}")
    for method in PaymentMethod
    for language in ("it", "en")
    for years in (1, 2)
]


@pytest.mark.parametrize(("method", "language", "years"), ALL)
def test_years_take_the_right_plural(method: PaymentMethod, language: str, years: int) -> None:
    text = email(method, language, years)["text"]
    assert f"STANDARD, {YEARS_WORD[language, years]}, " in text
    assert WRONG_YEARS[language, years] not in text


@pytest.mark.parametrize(("method", "language", "years"), ALL)
def test_every_email_is_clean_text(method: PaymentMethod, language: str, years: int) -> None:
    message = email(method, language, years)
    text = message["text"]
    assert message["language"] == language
    assert "{" not in text
    assert "\n\n\n" not in text
    assert text.endswith(".\n")
    assert all(line == line.rstrip() for line in text.splitlines())
    assert "\n" not in message["subject"]
    assert NUMBER in message["subject"]


@pytest.mark.parametrize(("method", "language", "years"), ALL)
def test_only_card_and_paypal_announce_automatic_renewal(
    method: PaymentMethod, language: str, years: int
) -> None:
    text = email(method, language, years)["text"]
    if method in (PaymentMethod.CARD, PaymentMethod.PAYPAL):
        assert AUTO_RENEWAL[language] in text
        assert EVERY[language, years] in text
        assert f"?order=ord_1&method={method.value}" in text
    else:
        assert AUTO_RENEWAL[language] not in text
        assert "http" not in text


@pytest.mark.parametrize(("method", "language", "years"), ALL)
def test_only_partner_credit_is_already_paid(
    method: PaymentMethod, language: str, years: int
) -> None:
    message = email(method, language, years)
    if method is PaymentMethod.PARTNER_CREDIT:
        assert AMOUNT_TO_PAY[language] not in message["text"]
        assert "IBAN" not in message["text"]
    else:
        assert AMOUNT_TO_PAY[language] in message["text"]
        assert ("pagato" if language == "it" else "paid") not in message["subject"]


# --- per method -----------------------------------------------------------------------------


def test_partner_credit_email_says_the_renewal_is_done() -> None:
    it = email(PaymentMethod.PARTNER_CREDIT, "it", 2)
    assert it["subject"] == f"Ordine {NUMBER} pagato: rinnovo casella PEC completato"
    assert f"il tuo ordine {NUMBER} è pagato e il rinnovo di 1 casella PEC è fatto:" in it["text"]
    assert (
        "Pagato con il credito prepagato del Partner che gestisce la casella: 12.08 EUR"
        in (it["text"])
    )
    assert "Il rinnovo sarà completato" not in it["text"]

    en = email(PaymentMethod.PARTNER_CREDIT, "en", 2)
    assert en["subject"] == f"Order {NUMBER} paid: PEC mailbox renewal done"
    assert f"your order {NUMBER} is paid and the renewal of 1 PEC mailbox is done:" in en["text"]
    assert (
        "Paid from the prepaid credit of the Partner that manages the mailbox: 12.08 EUR"
        in (en["text"])
    )
    assert "The renewal completes" not in en["text"]


def test_card_email_in_italian_says_how_automatic_renewal_works() -> None:
    text = email(PaymentMethod.CARD, "it", 2, items=[_item(1), _item(2)])["text"]
    assert "Paga con carta di credito a questo link: https://pay.example.it/checkout?" in text
    assert "le caselle si rinnoveranno da sole ogni 2 anni" in text
    assert "Puoi disattivarlo quando vuoi." in text


def test_paypal_email_in_english_for_one_mailbox_one_year() -> None:
    text = email(PaymentMethod.PAYPAL, "en", 1)["text"]
    assert "Pay with PayPal at this link: https://pay.example.it/checkout?" in text
    assert "the mailbox will renew by itself every year" in text
    assert "You can turn it off at any time." in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "it",
            "Paga con bonifico bancario a PEC Provider S.p.A., IBAN IT60X0542811101000000123456, "
            f"indicando come causale esattamente: {NUMBER}. La causale deve essere il numero "
            "dell'ordine, nient'altro",
        ),
        (
            "en",
            "Pay by bank transfer to PEC Provider S.p.A., IBAN IT60X0542811101000000123456, with "
            f"exactly this description: {NUMBER}. The description must be the order number",
        ),
    ],
)
def test_bank_transfer_gives_iban_beneficiary_and_the_order_number(
    language: str, expected: str
) -> None:
    text = email(PaymentMethod.BANK_TRANSFER, language, 1)["text"]
    assert expected in text
    assert ("giorno lavorativo successivo" if language == "it" else "next working day") in text


@pytest.mark.parametrize(
    ("method", "language", "timing"),
    [
        (PaymentMethod.POSTAL_SLIP_PREFILLED, "it", "registrato in giornata"),
        (PaymentMethod.POSTAL_SLIP_PREFILLED, "en", "registered the same day"),
        (PaymentMethod.POSTAL_SLIP, "it", "registrato in 5-7 giorni lavorativi"),
        (PaymentMethod.POSTAL_SLIP, "en", "registered in 5-7 working days"),
    ],
)
def test_postal_slips_give_the_account_and_the_timing(
    method: PaymentMethod, language: str, timing: str
) -> None:
    text = email(method, language, 1)["text"]
    assert "12345678" in text
    assert NUMBER in text
    assert timing in text


@pytest.mark.parametrize(
    ("language", "payable", "vat_note", "closing"),
    [
        (
            "it",
            "Importo da pagare: 9.90 EUR",
            "l'IVA di 2.18 EUR è versata dall'ente direttamente all'Erario",
            "appena registreremo l'impegno di pagamento dell'ente",
        ),
        (
            "en",
            "Amount to pay: 9.90 EUR",
            "the administration pays the VAT of 2.18 EUR directly to the Treasury",
            "as soon as we register the administration's payment commitment",
        ),
    ],
)
def test_public_administration_pays_the_net_and_is_renewed_on_its_commitment(
    language: str, payable: str, vat_note: str, closing: str
) -> None:
    text = email(
        PaymentMethod.BANK_TRANSFER,
        language,
        1,
        payable=Money(990),
        split_payment=True,
        public_administration=True,
    )["text"]
    assert payable in text
    assert vat_note in text
    assert closing in text


def test_mailboxes_are_counted_with_the_right_plural() -> None:
    two = [_item(1), _item(2, extra_mailbox_gb=1, extra_archive_gb=2)]
    it = email(PaymentMethod.BANK_TRANSFER, "it", 1, items=two)
    assert it["subject"] == f"Conferma ordine {NUMBER}: rinnovo caselle PEC"
    assert "per il rinnovo di 2 caselle PEC:" in it["text"]
    assert (
        "mbx-2@pec.example.it: STANDARD, 1 anno, nuova scadenza 2027-12-25, +1 GB casella, "
        "+2 GB archivio\n"
    ) in it["text"]
    assert "per il rinnovo di 1 casella PEC:" in email(PaymentMethod.CARD, "it", 1)["text"]

    en = email(PaymentMethod.BANK_TRANSFER, "en", 1, items=two)
    assert "to renew 2 PEC mailboxes:" in en["text"]
    assert "+1 GB mailbox space, +2 GB archive space\n" in en["text"]
    assert "to renew 1 PEC mailbox:" in email(PaymentMethod.CARD, "en", 1)["text"]


def test_archive_deletion_names_only_the_mailboxes_that_lose_it() -> None:
    items = [_item(1), _item(2, current_plan="PRO", deletes_archive=True)]
    text = email(PaymentMethod.BANK_TRANSFER, "it", 1, items=items)["text"]
    warning = text.split("Attenzione:")[1]
    assert "mbx-2@pec.example.it" in warning
    assert "mbx-1@pec.example.it" not in warning
    assert "Attenzione" not in email(PaymentMethod.BANK_TRANSFER, "it", 1)["text"]


def test_an_unknown_language_gets_italian() -> None:
    message = email(PaymentMethod.BANK_TRANSFER, "de", 1)
    assert message["language"] == "it"
    assert message["text"].startswith("Gentile Mario Rossi,")
