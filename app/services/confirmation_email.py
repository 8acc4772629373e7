"""The order confirmation: what was ordered, what to pay and how, in Italian or English.

The wording lives in templates, one per language (`app/templates/email/`), so that
text is edited as text. Plural forms ("1 anno", "2 anni") come from Jinja2's i18n
extension with null translations: `ngettext` takes the singular for exactly 1, which is
the CLDR rule for both Italian and English. A language with other plural rules would
need a real gettext catalogue installed instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.domain.money import Money
from app.domain.order import PaymentMethod
from app.domain.order_items import OrderItem
from app.domain.payment_instructions import PaymentInstructions

EMAIL = "email"
LANGUAGES = ("it", "en")
# An email queued as facts (confirmation_email): its template's name and what it reads.
TEMPLATE, CONTEXT = "template", "context"


@cache
def _templates() -> Environment:
    """Built on first use, not at import. Plain-text templates are not escaped (there is
    no HTML to break); any HTML template would be. A missing variable is an error, not
    a blank in a customer's email."""
    environment = Environment(
        loader=PackageLoader("app", "templates/email"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,  # shipped with the code: no stat() of each template per email
    )
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return environment


def confirmation_email(
    *,
    language: str,
    number: str,
    holder_name: str,
    to: str,
    years: int,
    items: Sequence[OrderItem],
    net: Money,
    vat: Money,
    total: Money,
    payable: Money,
    split_payment: bool,
    instructions: PaymentInstructions,
    public_administration: bool = False,
    placed_on: date | None = None,
) -> dict[str, Any]:
    """The confirmation as the outbox queues it: recipient, language, and the facts the
    templates word (`worded` turns it into subject and text when it is delivered).

    Wording it in the request cost an order ~15% of its CPU (Jinja's code, run once per
    request, is cache-cold: ~150 µs against ~70 µs in a loop); the facts are frozen here,
    so the email says what was ordered whenever it goes out. An order paid from a
    partner's credit is already renewed: it says so, not what to pay. A downgrade says
    the day it takes effect (the mailbox stays as it is until then)."""
    language = language if language in LANGUAGES else "it"
    context = {
        "number": number,
        "holder_name": holder_name,
        "years": years,
        # As the templates read them: JSON in the outbox, printed as the objects print.
        "items": [_item_facts(item) for item in items],
        "net": str(net),
        "vat": str(vat),
        "total": str(total),
        "payable": str(payable),
        "split_payment": split_payment,
        "public_administration": public_administration,
        "method": instructions.method.value,
        "paid_from_credit": instructions.method is PaymentMethod.PARTNER_CREDIT,
        "beneficiary": instructions.beneficiary,
        "iban": instructions.iban,
        "description": instructions.description,
        "postal_account": instructions.postal_account,
        "payment_url": instructions.payment_url,
        "waiting": {
            item.mailbox_id: str(item.quoted_effective_on)
            for item in items
            if placed_on is not None and item.waits_for_expiry(placed_on)
        },
    }
    return {"to": to, "language": language, TEMPLATE: "confirmation", CONTEXT: context}


def _item_facts(item: OrderItem) -> dict[str, Any]:
    return {
        "mailbox_id": item.mailbox_id,
        "address": item.address,
        "target_plan": item.target_plan,
        "extra_mailbox_gb": item.extra_mailbox_gb,
        "extra_archive_gb": item.extra_archive_gb,
        "deletes_archive": item.deletes_archive,
        "quoted_new_expiry": str(item.quoted_new_expiry),
    }


def worded(message: Mapping[str, Any]) -> dict[str, Any]:
    """An email as it is sent: subject and text worded from its template and facts
    when it was queued with them (`confirmation_email`), else as it was queued."""
    template = message.get(TEMPLATE)
    if template is None:
        return dict(message)
    language, context = message["language"], message[CONTEXT]
    templates = _templates()
    subject = templates.get_template(f"{template}_subject.{language}.txt.j2").render(context)
    text = templates.get_template(f"{template}_body.{language}.txt.j2").render(context)
    return {"to": message["to"], "subject": subject.strip(), "text": text, "language": language}


def render_message(name: str, language: str, to: str, context: dict[str, object]) -> dict[str, str]:
    """Another email from the same templates: `{name}.{language}.txt.j2`, whose first
    line is the subject and the rest the body (as the outbox stores it)."""
    language = language if language in LANGUAGES else "it"
    text = _templates().get_template(f"{name}.{language}.txt.j2").render(context)
    subject, _, body = text.partition("\n")
    return {"to": to, "subject": subject.strip(), "text": body.lstrip("\n"), "language": language}
