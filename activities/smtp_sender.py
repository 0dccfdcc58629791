"""SMTP sending with aiosmtplib: host, port, STARTTLS and credentials from settings, never from inputs."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from reactivation.delivery_models import AddressRefused, OutgoingMessage
from reactivation.settings import Settings


def to_email(message: OutgoingMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = message.from_address
    email["To"] = message.to_address
    email["Subject"] = message.subject
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.body)
    return email


async def send_email(settings: Settings, message: OutgoingMessage) -> str:
    """Hand the message to the SMTP server; return its reply. A permanent (5xx) refusal of the recipient
    raises AddressRefused (a synchronous hard bounce); any other failure raises as is, to be retried."""
    try:
        _, reply = await aiosmtplib.send(
            to_email(message), hostname=settings.smtp_host, port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_starttls, timeout=30,
        )
    except aiosmtplib.SMTPRecipientsRefused as err:
        codes = [r.code for r in err.recipients]
        if codes and all(code >= 500 for code in codes):
            raise AddressRefused("; ".join(f"{r.code} {r.message}" for r in err.recipients)[:300]) from err
        raise
    return reply
