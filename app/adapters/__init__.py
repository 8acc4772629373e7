"""The outside world: payment providers, SMTP, the mail platform."""
