"""Human messages for the stable codes, in Italian (first) and English.

Codes are the contract; messages may be reworded freely. Templates take the issue's
or error's params by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from typing import NamedTuple

ITALIAN, ENGLISH = "it", "en"
LANGUAGES = (ITALIAN, ENGLISH)

_MESSAGES: dict[str, tuple[str, str]] = {
    # Renewal rules (domain.md)
    "frequency_not_allowed": (
        "Frequenza di rinnovo non consentita: da {min} a {max} anni.",
        "Renewal frequency not allowed: {min} to {max} years.",
    ),
    "frequency_not_allowed_promo": (
        "Questa tipologia è in promozione: si può rinnovare al massimo per {max_years} anni.",
        "This plan is on promotion: it can be renewed for at most {max_years} years.",
    ),
    "auto_renewal_active": (
        "La casella ha il rinnovo automatico attivo: disattivalo prima di rinnovare.",
        "The mailbox has automatic renewal on: turn it off before renewing by hand.",
    ),
    "pending_order_exists": (
        "Esiste già un ordine di rinnovo in attesa di pagamento: pagalo o annullalo.",
        "There is already a renewal order awaiting payment: pay or cancel it.",
    ),
    "mailbox_deleted": (
        "La casella è stata cancellata e non può essere rinnovata.",
        "The mailbox has been deleted and cannot be renewed.",
    ),
    "mailbox_suspended": (
        "La casella è sospesa e non può essere rinnovata.",
        "The mailbox is suspended and cannot be renewed.",
    ),
    "plan_change_not_allowed": (
        "Una casella su dominio proprio non può cambiare tipologia né avere spazio aggiuntivo.",
        "A mailbox on its own domain cannot change plan or get extra space.",
    ),
    "extra_space_above_max": (
        "Spazio aggiuntivo oltre il massimo della tipologia: al massimo {max_extra_mailbox_gb} GB.",
        "Extra space above the plan's maximum: at most {max_extra_mailbox_gb} GB.",
    ),
    "free_space_required": (
        "Lo spazio occupato supera il massimo della nuova tipologia: "
        "elimina almeno {mb_to_free} MB di messaggi.",
        "The space in use exceeds the new plan's maximum: "
        "delete at least {mb_to_free} MB of messages.",
    ),
    "insufficient_mailbox_space": (
        "Spazio insufficiente: aggiungi almeno {smallest_extra_mailbox_gb} GB alla casella.",
        "Not enough space: add at least {smallest_extra_mailbox_gb} GB to the mailbox.",
    ),
    "insufficient_archive_space": (
        "Spazio d'archivio insufficiente: aggiungi almeno {smallest_extra_archive_gb} GB.",
        "Not enough archive space: add at least {smallest_extra_archive_gb} GB.",
    ),
    "archive_not_available": (
        "La tipologia scelta non ha l'archivio di sicurezza.",
        "The chosen plan has no security archive.",
    ),
    "archive_will_be_deleted": (
        "L'archivio di sicurezza verrà disattivato e tutti i messaggi archiviati "
        "({archived_mb} MB) saranno cancellati.",
        "The security archive will be switched off and all archived messages "
        "({archived_mb} MB) deleted.",
    ),
    "features_lost": (
        "Con la nuova tipologia perderai alcune funzioni (notifiche SMS, utenti aggiuntivi).",
        "The new plan loses some features (SMS reports, extra users).",
    ),
    "convention_code_invalid": (
        "Codice convenzione sconosciuto o scaduto.",
        "Unknown or expired convention code.",
    ),
    # Orders and payments
    "quote_expired": (
        "Il preventivo è scaduto: richiedine uno nuovo.",
        "The quote has expired: ask for a new one.",
    ),
    "quote_blocked": (
        "Il preventivo ha problemi bloccanti da risolvere prima di ordinare.",
        "The quote has blocking issues to fix before ordering.",
    ),
    "quote_already_ordered": (
        "Da questo preventivo è già stato creato un ordine ({order_id}).",
        "An order was already placed from this quote ({order_id}).",
    ),
    "acknowledgement_required": (
        "Conferma di aver compreso che l'archivio di sicurezza sarà cancellato.",
        "Confirm that you understand the security archive will be deleted.",
    ),
    "consent_required": (
        "Per ordinare devi accettare le condizioni, le clausole vessatorie e l'informativa: "
        "invia true.",
        "To order you must accept the terms, the unfair-terms clauses and the privacy notice: "
        "send true.",
    ),
    "insufficient_credit": (
        "Credito insufficiente: servono {needed}, disponibili {available}.",
        "Insufficient credit: {needed} needed, {available} available.",
    ),
    "order_not_found": ("Ordine non trovato.", "Order not found."),
    "order_not_cancellable": (
        "L'ordine non può più essere annullato ({status}).",
        "The order can no longer be cancelled ({status}).",
    ),
    "commitment_not_applicable": (
        "Solo un ordine di una PA in attesa di pagamento accetta un impegno di pagamento.",
        "Only a public administration's order awaiting payment takes a payment commitment.",
    ),
    "partner_not_found": ("Partner non trovato.", "Partner not found."),
    "payment_event_not_found": ("Evento di pagamento non trovato.", "Payment event not found."),
    "payment_event_already_applied": (
        "L'evento di pagamento è già stato applicato ({outcome}).",
        "The payment event has already been applied ({outcome}).",
    ),
    "payment_event_not_stored": (
        "Evento di pagamento non registrato: inviarlo di nuovo tra poco.",
        "Payment event not stored: deliver it again shortly.",
    ),
    "unknown_provider": ("Fornitore di pagamento sconosciuto.", "Unknown payment provider."),
    "invalid_signature": (
        "Firma del webhook non valida o scaduta.",
        "Invalid or expired webhook signature.",
    ),
    "sandbox_only": ("Disponibile solo nella sandbox.", "Available in the sandbox only."),
    "invalid_codice_fiscale": (
        "Codice fiscale non valido: 16 caratteri, ad es. RSSMRA85T10A562S; "
        "controlla anche l'ultimo carattere (di controllo).",
        "Invalid codice fiscale: 16 characters, e.g. RSSMRA85T10A562S; "
        "check the last one too (the check character).",
    ),
    "invalid_partita_iva": (
        "Partita IVA non valida: 11 cifre, ad es. 00743110157; "
        "controlla anche l'ultima (di controllo).",
        "Invalid partita IVA: 11 digits, e.g. 00743110157; check the last one too "
        "(the check digit).",
    ),
    "invalid_email": ("Indirizzo email non valido.", "Invalid email address."),
    "invalid_sdi_code": (
        "Codice Destinatario non valido: 7 lettere o cifre, ad es. ABC1234.",
        "Invalid Codice Destinatario: 7 letters or digits, e.g. ABC1234.",
    ),
    "invalid_office_code": (
        "Codice Univoco Ufficio non valido: 6 lettere o cifre, ad es. UFABC1.",
        "Invalid Codice Univoco Ufficio: 6 letters or digits, e.g. UFABC1.",
    ),
    "invalid_cig": (
        "CIG non valido: 10 lettere o cifre, ad es. ZAB1234567.",
        "Invalid CIG: 10 letters or digits, e.g. ZAB1234567.",
    ),
    "invalid_cup": (
        "CUP non valido: 15 lettere o cifre, ad es. J51B21000120001.",
        "Invalid CUP: 15 letters or digits, e.g. J51B21000120001.",
    ),
    "einvoicing_identifier_required": (
        'Indica un Codice Destinatario, una PEC o "nessuno" per la fattura elettronica.',
        'Give a Codice Destinatario, a PEC address or "none" for e-invoicing.',
    ),
    "einvoicing_ambiguous": (
        "Indica un solo identificativo per la fattura elettronica.",
        "Give only one e-invoicing identifier.",
    ),
    "public_administration_required": (
        "Una PA deve indicare Codice Univoco Ufficio, CIG e scissione dei pagamenti.",
        "A public administration must give its office code, CIG and split payment.",
    ),
    "not_a_public_administration": (
        "Dati PA ammessi solo per una pubblica amministrazione.",
        "Public-administration data is for public administrations only.",
    ),
    "partner_pays_by_credit": (
        "I Partner pagano con il credito prepagato (partner_credit).",
        "Partners pay from their prepaid credit (partner_credit).",
    ),
    "payment_method_not_allowed": (
        "Metodo di pagamento non ammesso.",
        "Payment method not allowed.",
    ),
    "public_administration_pays_by_transfer": (
        "Una PA paga con bonifico dopo l'impegno di pagamento.",
        "A public administration pays by bank transfer after its payment commitment.",
    ),
    "holder_required": (
        "Indica i dati dell'intestatario: non ce ne sono in archivio per queste caselle.",
        "Give the holder's data: none is on file for these mailboxes.",
    ),
    "holders_on_file_differ": (
        "Le caselle hanno intestatari diversi: indica l'intestatario dell'ordine.",
        "The mailboxes have different holders: give the order's holder.",
    ),
    "account_not_found": ("Account non trovato.", "Account not found."),
    # Request and resource errors
    "validation_failed": ("La richiesta non è valida.", "The request is not valid."),
    "mailbox_not_found": ("Casella non trovata.", "Mailbox not found."),
    "quote_not_found": ("Preventivo non trovato.", "Quote not found."),
    "not_found": ("Risorsa non trovata.", "Resource not found."),
    "method_not_allowed": ("Metodo non consentito.", "Method not allowed."),
    "not_authenticated": (
        "Autenticazione richiesta: invia il token (Authorization: Bearer).",
        "Authentication required: send a token (Authorization: Bearer).",
    ),
    "invalid_token": (
        "Il token non è valido: accedi di nuovo.",
        "The token is not valid: sign in again.",
    ),
    "token_expired": (
        "Il token è scaduto: accedi di nuovo.",
        "The token has expired: sign in again.",
    ),
    "unsupported_media_type": (
        "Il corpo della richiesta deve essere JSON (Content-Type: application/json).",
        "The request body must be JSON (Content-Type: application/json).",
    ),
    "forbidden": ("Operazione non consentita.", "Operation not allowed."),
    "idempotency_key_reused": (
        "Idempotency-Key già usata con una richiesta diversa.",
        "Idempotency-Key already used with a different request.",
    ),
    "request_too_large": ("Richiesta troppo grande.", "Request too large."),
    "catalog_unavailable": (
        "Listino prezzi non disponibile.",
        "No price list is in force.",
    ),
    "mailbox_address_taken": (
        "Indirizzo già usato da un'altra casella.",
        "Address already used by another mailbox.",
    ),
    "unknown_owner": (
        "Titolare sconosciuto: crealo prima con {create_with}.",
        "Unknown owner: create it first with {create_with}.",
    ),
    "price_list_in_force": (
        "Il listino {price_list_id} è già in vigore e non si modifica: "
        "pubblicane uno nuovo con una data di validità futura.",
        "Price list {price_list_id} is already in force and is never edited: "
        "publish a new one with a later valid_from.",
    ),
    "internal_error": ("Errore interno.", "Internal error."),
    "database_unavailable": (
        "Servizio momentaneamente non disponibile: riprova tra poco.",
        "Service temporarily unavailable: try again shortly.",
    ),
    "rate_limited": (
        "Troppe richieste: riprova tra {retry_after} secondi.",
        "Too many requests: try again in {retry_after} seconds.",
    ),
    # Field error codes
    "required": ("Campo obbligatorio.", "Field required."),
    "invalid_type": ("Tipo di dato non valido.", "Invalid type."),
    "invalid_value": ("Valore non valido.", "Invalid value."),
    "invalid_json": ("JSON non valido.", "Invalid JSON."),
    "invalid_format": ("Formato non valido.", "Invalid format."),
    "control_characters": (
        "Il testo contiene caratteri di controllo (ad esempio NUL o a capo): rimuovili.",
        "The text holds control characters (such as NUL or a line break): remove them.",
    ),
    "unknown_field": ("Campo non previsto.", "Unexpected field."),
    "out_of_range": ("Valore fuori dall'intervallo consentito.", "Value out of range."),
    "too_long": ("Valore troppo lungo.", "Value too long."),
    "too_many_items": ("Troppi elementi: al massimo {max}.", "Too many items: at most {max}."),
    "items_required": ("Indica almeno una casella.", "Give at least one mailbox."),
    "duplicate_mailbox": (
        "La stessa casella compare più volte.",
        "The same mailbox appears more than once.",
    ),
    "unknown_plan": ("Tipologia sconosciuta.", "Unknown plan."),
    "unknown_signature_kit": ("Kit di firma sconosciuto.", "Unknown signature kit."),
    "plan_not_in_price_list": (
        "La tipologia attuale della casella non è nel listino in vigore.",
        "The mailbox's current plan is not in the price list in force.",
    ),
    # Publishing a price list
    "plans_required": ("Il listino deve avere almeno una tipologia.", "Give at least one plan."),
    "max_below_base": (
        "Il massimo non può essere inferiore allo spazio di base ({min} GB).",
        "The maximum can't be below the base space ({min} GB).",
    ),
    "duplicate_code": ("Codice ripetuto.", "Duplicate code."),
    "invalid_date_range": (
        "La data di fine precede quella di inizio.",
        "The end date comes before the start date.",
    ),
    "overlapping_dates": (
        "Le date si sovrappongono a quelle di {other} per la stessa tipologia.",
        "The dates overlap those of {other} for the same plan.",
    ),
    "too_precise": (
        "Valore troppo preciso: al massimo al passo di {step}.",
        "Too precise: at most to the nearest {step}.",
    ),
    "idempotency_key_required": (
        "Questa operazione muove denaro: l'intestazione Idempotency-Key è obbligatoria.",
        "This operation moves money: the Idempotency-Key header is required.",
    ),
    "credit_limit_exceeded": (
        "La ricarica porterebbe il credito oltre il massimo di {ceiling} EUR.",
        "The top-up would take the credit past the {ceiling} EUR ceiling.",
    ),
    "invalid_cursor": ("Cursore di paginazione non valido.", "Invalid pagination cursor."),
    "clock_backwards": (
        "L'orologio della sandbox va solo avanti: ora segna {now}.",
        "The sandbox clock only moves forward: it now stands at {now}.",
    ),
    "clock_jump_too_far": (
        "L'orologio della sandbox avanza al massimo di {max_days} giorni per volta.",
        "The sandbox clock moves at most {max_days} days at a time.",
    ),
    # Partner webhooks
    "webhook_url_invalid": (
        "Indirizzo del webhook non valido: serve un URL completo, senza credenziali.",
        "Invalid webhook URL: give a full URL, without credentials.",
    ),
    "webhook_url_not_https": (
        "L'indirizzo del webhook deve usare https.",
        "The webhook URL must use https.",
    ),
    "webhook_url_not_public": (
        "L'indirizzo del webhook deve essere pubblico: non privato, locale o di loopback.",
        "The webhook URL must be public: not a private, local or loopback address.",
    ),
    "webhook_secret_invalid": (
        "Segreto non valido: serve whsec_ seguito dal base64 di 24-64 byte casuali.",
        "Invalid secret: use whsec_ followed by the base64 of 24-64 random bytes.",
    ),
    "webhook_endpoint_not_found": (
        "Nessun indirizzo per i webhook impostato.",
        "No webhook endpoint is set.",
    ),
    "webhook_endpoint_not_set": (
        "Imposta prima un indirizzo per i webhook.",
        "Set a webhook endpoint first.",
    ),
    "webhook_delivery_not_found": (
        "Consegna del webhook non trovata.",
        "Webhook delivery not found.",
    ),
    "automatic_renewal_needs_card": (
        "Il rinnovo automatico è possibile solo pagando con carta o PayPal.",
        "Automatic renewal needs a card or PayPal payment.",
    ),
    "payment_method_not_found": (
        "Metodo di pagamento salvato non trovato.",
        "Saved payment method not found.",
    ),
}


class Localized(NamedTuple):
    """A param that is itself words (a format, a type): filled in the message's language."""

    italian: str
    english: str


# More precise messages for a code, used when the error carries their params (pydantic's
# context, a price list's codes): the first whose placeholders are all given wins, and the
# plain message of _MESSAGES is the fallback. The code stays the same: only words differ.
_PRECISE: dict[str, tuple[tuple[str, str], ...]] = {
    "invalid_value": (
        ("Valore non valido: usa uno tra {allowed}.", "Invalid value: use one of {allowed}."),
    ),
    "out_of_range": (
        (
            "Valore fuori dall'intervallo: deve essere tra {min} e {max}.",
            "Value out of range: it must be between {min} and {max}.",
        ),
        ("Valore troppo piccolo: almeno {min}.", "Value too small: at least {min}."),
        ("Valore troppo grande: al massimo {max}.", "Value too large: at most {max}."),
    ),
    "invalid_format": (("Formato non valido: {format}.", "Invalid format: use {format}."),),
    "invalid_type": (
        ("Tipo di dato non valido: serve {expected}.", "Invalid type: expected {expected}."),
    ),
    "too_long": (
        (
            "Valore troppo lungo: al massimo {max_length} caratteri.",
            "Value too long: at most {max_length} characters.",
        ),
    ),
    "unknown_plan": (
        (
            "Tipologia sconosciuta: usa uno dei codici del listino, {codes}.",
            "Unknown plan: use one of the price list's codes, {codes}.",
        ),
    ),
    "unknown_signature_kit": (
        (
            "Kit di firma sconosciuto: usa uno tra {codes}.",
            "Unknown signature kit: use one of {codes}.",
        ),
    ),
}


def pick_language(accept_language: str | None) -> str:
    """The best of Italian or English for an Accept-Language header; Italian by default."""
    if not accept_language:
        return ITALIAN
    best, best_q = ITALIAN, -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best


def message(code: str, language: str, params: Mapping[str, object] | None = None) -> str:
    given = {
        name: (value.english if language == ENGLISH else value.italian)
        if isinstance(value, Localized)
        else value
        for name, value in (params or {}).items()
    }
    pair = next(
        (pair for pair in _PRECISE.get(code, ()) if _placeholders(pair[0]) <= given.keys()),
        _MESSAGES.get(code, _MESSAGES["invalid_value"]),
    )
    template = pair[1] if language == ENGLISH else pair[0]
    try:
        return template.format_map(given)
    except (KeyError, IndexError, ValueError):
        return template


def message_templates() -> dict[str, tuple[str, str]]:
    """Every code's plain (Italian, English) message: for the error-code documentation."""
    return dict(_MESSAGES)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}
