"""Sending e-mail through SMTP (the standard library's ``smtplib``, in a thread).

One connection per batch; STARTTLS and a login when configured. A failure is raised
as :class:`MailError` with a short class name (never the server's text, which can
echo an address) for the caller to record and retry.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from infra.settings import Settings


class MailError(Exception):
    """A message was not accepted; ``reason`` is a short class name, safe to store."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SmtpSender:
    def __init__(self, settings: Settings) -> None:
        if settings.smtp_host is None:
            raise ValueError("MASHFLOW_SMTP_HOST is not set")
        self._host = settings.smtp_host
        self._port = settings.smtp_port
        self._starttls = settings.smtp_starttls
        self._username = settings.smtp_username
        self._password = settings.smtp_password
        self._timeout = settings.smtp_timeout_s
        self.sender = settings.smtp_from

    async def send(self, messages: Sequence[EmailMessage]) -> list[MailError | None]:
        """Send each message; for each, None if accepted or the failure. A connection
        failure fails them all."""
        return await asyncio.to_thread(self._send_all, list(messages))

    def _send_all(self, messages: list[EmailMessage]) -> list[MailError | None]:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username is not None and self._password is not None:
                    smtp.login(self._username, self._password.get_secret_value())
                return [self._one(smtp, m) for m in messages]
        except (OSError, smtplib.SMTPException) as exc:
            return [MailError(type(exc).__name__)] * len(messages)

    @staticmethod
    def _one(smtp: smtplib.SMTP, message: EmailMessage) -> MailError | None:
        try:
            smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            raise
        except smtplib.SMTPException as exc:
            return MailError(type(exc).__name__)
        return None
