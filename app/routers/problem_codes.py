"""Every stable code an error can carry, with what it means: the enums of the contract.

`PROBLEM_CODES` are a problem's top-level `code`; `FIELD_CODES` are the `code` of an
item of its `errors[]`. A generated client switches on them, so they are listed here
once and rendered as enums (with each value's meaning) into the OpenAPI document; a
unit test checks that every code the server can emit is listed.
"""

from __future__ import annotations

from typing import Any

PROBLEM_CODES: dict[str, str] = {
    # 400, 401, 403, 404, 405, 413, 415
    "invalid_signature": "400: the webhook's signature is wrong or its timestamp stale.",
    "not_authenticated": "401: no token, or an invalid or expired one.",
    "forbidden": "403: your role may not call this operation.",
    "not_found": "404: no such path.",
    "mailbox_not_found": "404: no such mailbox, or not one you can see.",
    "quote_not_found": "404: no such quote, or not yours.",
    "order_not_found": "404: no such order, or not yours.",
    "payment_method_not_found": "404: no such saved payment method, or not yours.",
    "account_not_found": "404: no such customer account.",
    "partner_not_found": "404: no such partner.",
    "payment_event_not_found": "404: no such stored payment event.",
    "commitment_not_applicable": "404: only a public administration's order awaiting "
    "payment takes a payment commitment.",
    "unknown_provider": "404: no such payment provider.",
    "sandbox_only": "404: the operation exists in the sandbox only.",
    "method_not_allowed": "405: the path exists, not with this method.",
    "request_too_large": "413: the body is larger than the service accepts.",
    "unsupported_media_type": "415: the body is not `application/json`.",
    # 409: business conflicts
    "quote_expired": "409: the quote is past `valid_until`: ask for a new one.",
    "quote_blocked": "409: the quote has blocking issues: fix them and quote again.",
    "quote_already_ordered": "409: an order was placed from this quote (`order_id`).",
    "pending_order_exists": "409: a mailbox already has an order awaiting payment "
    "(`order_id`, `mailbox_id`): pay or cancel it.",
    "insufficient_credit": "409: the partner's prepaid credit is below the order's amount.",
    "order_not_cancellable": "409: only an order awaiting payment can be cancelled.",
    "credit_limit_exceeded": "409: the top-up would take the credit past its ceiling.",
    "mailbox_deleted": "409: a deleted mailbox can't have automatic renewal on.",
    "mailbox_suspended": "409: a suspended mailbox can't have automatic renewal on.",
    "mailbox_address_taken": "409: another mailbox already has this address.",
    "price_list_in_force": "409: a price list in force is never edited (`price_list_id`).",
    "payment_event_already_applied": "409: the payment event was applied already (`outcome`).",
    # 422: the request can't be served as sent
    "validation_failed": "422: the request is malformed: `errors[]` names every field.",
    "convention_code_invalid": "422: unknown or expired convention code.",
    "acknowledgement_required": "422: the order deletes a security archive: send "
    "`acknowledge_archive_deletion: true`.",
    "consent_required": "422: every consent (`terms`, `unfair_terms`, `privacy`) must be true.",
    "holder_required": "422: no holder given and none on file for these mailboxes.",
    "unknown_owner": "422: the mirror names an account or partner that doesn't exist: "
    "create it first with `create_with`.",
    "idempotency_key_reused": "422: this Idempotency-Key was used with another body.",
    "invalid_cursor": "422: the pagination cursor is not one we gave out.",
    "invalid_value": "4xx: the request was refused (no more specific code applies).",
    # 428, 5xx
    "idempotency_key_required": "428: this operation moves money: send an Idempotency-Key.",
    "rate_limited": "429: too many requests (per caller, per payment provider, or failed "
    "authentications per address): retry after `Retry-After` seconds.",
    "internal_error": "500/502: a bug on our side; quote the X-Request-ID.",
    "database_unavailable": "503: the database can't be reached now: retry after "
    "`Retry-After` seconds.",
    "catalog_unavailable": "503: no price list is in force.",
    "payment_event_not_stored": "503: the event could not be stored: deliver it again.",
    # the sandbox's test clock
    "clock_backwards": "409: the sandbox clock only moves forward (`now` is where it stands).",
    "clock_jump_too_far": "422: the sandbox clock moves at most `max_days` days at once.",
    # Partner webhooks
    "webhook_endpoint_not_found": "404: you have set no webhook endpoint.",
    "webhook_delivery_not_found": "404: no such webhook delivery of yours.",
    "webhook_endpoint_not_set": "409: set a webhook endpoint before redelivering.",
    "webhook_url_invalid": "422: not a full URL, or one with a user or password.",
    "webhook_url_not_https": "422: the webhook URL must be https.",
    "webhook_url_not_public": "422: the webhook URL names a private, loopback or local host.",
    "webhook_secret_invalid": "422: not `whsec_` + base64 of 24 to 64 bytes.",
}

FIELD_CODES: dict[str, str] = {
    # The shape of the request
    "required": "The field is missing (or blank).",
    "unknown_field": "The field is not part of the request.",
    "invalid_json": "The body is not valid JSON.",
    "invalid_type": "Wrong JSON type (a string for a number, say).",
    "invalid_value": "Not one of the accepted values.",
    "invalid_format": "Does not match the expected format.",
    "out_of_range": "Below the minimum or above the maximum.",
    "too_long": "Longer than allowed.",
    "too_precise": "More decimals than allowed (`step`).",
    "too_many_items": "More items than allowed (`max`).",
    "items_required": "At least one item is needed.",
    "control_characters": "The text holds control characters (NUL, line breaks…).",
    "invalid_cursor": "The pagination cursor is not one we gave out.",
    "idempotency_key_reused": "This Idempotency-Key was used with another body.",
    "idempotency_key_required": "This operation needs an Idempotency-Key.",
    # Quotes
    "frequency_not_allowed": "Renewal years out of the allowed range (`min`–`max`).",
    "duplicate_mailbox": "The same mailbox appears more than once.",
    "unknown_plan": "No plan with this code in the price list.",
    "unknown_signature_kit": "No signature kit with this code in the price list.",
    "plan_not_in_price_list": "The mailbox's current plan is not sold any more.",
    "convention_code_invalid": "Unknown or expired convention code.",
    "mailbox_not_found": "No such mailbox, or not one you can see.",
    # Orders, holders, billing
    "quote_expired": "The quote is past `valid_until`.",
    "quote_blocked": "The quote has blocking issues.",
    "acknowledgement_required": "The order deletes a security archive: acknowledge it.",
    "consent_required": "This consent must be true.",
    "holder_required": "Give the holder: none is on file.",
    "holders_on_file_differ": "The mailboxes have different holders on file: give one.",
    "invalid_codice_fiscale": "Not a valid codice fiscale (check digit included).",
    "invalid_partita_iva": "Not a valid partita IVA (check digit included).",
    "invalid_email": "Not a valid email address.",
    "invalid_sdi_code": "Codice Destinatario: 7 characters.",
    "invalid_office_code": "Codice Univoco Ufficio: 6 characters.",
    "invalid_cig": "CIG: 10 characters.",
    "invalid_cup": "CUP: 15 characters.",
    "einvoicing_identifier_required": "A business gives a Codice Destinatario, a PEC or "
    "`none: true`.",
    "einvoicing_ambiguous": "Give only one e-invoicing identifier.",
    "public_administration_required": "A public administration gives office code, CIG "
    "and split payment.",
    "not_a_public_administration": "Public-administration data for another kind of holder.",
    "partner_pays_by_credit": "Partners pay with `partner_credit`.",
    "payment_method_not_allowed": "This payment method is not allowed for this caller.",
    "public_administration_pays_by_transfer": "A public administration pays by bank transfer.",
    # Staff operations
    "credit_limit_exceeded": "The top-up would take the credit past its ceiling.",
    "mailbox_deleted": "A deleted mailbox can't have automatic renewal on.",
    "mailbox_suspended": "A suspended mailbox can't have automatic renewal on.",
    "mailbox_address_taken": "Another mailbox already has this address.",
    "unknown_owner": "No such account or partner: create it first (`create_with`).",
    "plans_required": "A price list needs at least one plan.",
    "max_below_base": "The maximum is below the plan's base space (`min`).",
    "duplicate_code": "The same code appears more than once.",
    "invalid_date_range": "The end date comes before the start date.",
    "overlapping_dates": "The dates overlap another promotion of the plan (`other`).",
    # Partner webhooks
    "webhook_url_invalid": "Not a full URL, or one with a user or password.",
    "webhook_url_not_https": "The webhook URL must be https.",
    "webhook_url_not_public": "The webhook URL names a private, loopback or local host.",
    "webhook_secret_invalid": "Not `whsec_` + base64 of 24 to 64 bytes.",
    "automatic_renewal_needs_card": "Only card and PayPal orders renew automatically.",
}


def enum_schema(codes: dict[str, str], what: str) -> dict[str, Any]:
    """A string enum whose description lists each value and its meaning."""
    listing = "\n".join(f"* `{code}`: {meaning}" for code, meaning in codes.items())
    return {
        "type": "string",
        "enum": list(codes),
        "description": f"{what}\n\n{listing}",
        "x-enum-descriptions": list(codes.values()),
    }
