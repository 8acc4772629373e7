"""Email over SMTP (aiosmtplib). The Message-ID is derived from the outbox key, so a
retried delivery is recognisably the same message."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from app.settings import Settings


class SmtpSender:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, dedupe_key: str, message: dict[str, str]) -> None:
        s = self._settings
        email = EmailMessage()
        email["From"] = s.smtp_from
        email["To"] = message["to"]
        email["Subject"] = message["subject"]
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()}@pec-renewal>"
        email.set_content(message["text"])  # clears Content-* headers: set them after
        email["Content-Language"] = message.get("language", "it")
        if s.smtp_host is None:
            raise ConnectionError("SMTP_HOST is not set")
        await aiosmtplib.send(
            email,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            start_tls=s.smtp_starttls,
            timeout=15,
        )
