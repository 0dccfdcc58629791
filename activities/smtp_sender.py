"""SMTP sending with aiosmtplib: host, port, STARTTLS and credentials from settings, never from inputs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import aiosmtplib

from reactivation.delivery_models import AddressRefused, DeliveryOutcomeUnknown, OutgoingMessage
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


async def send_email(settings: Settings, message: OutgoingMessage,
                     before_data: Callable[[], Awaitable[None]] | None = None) -> str:
    """Hand the message to the SMTP server; return its reply.

    `before_data` runs after the server accepted sender and recipient and just before DATA: only from
    there on can the server have the message, so only a crash after it leaves the outcome unknown.
    A permanent (5xx) refusal of the recipient raises AddressRefused (a synchronous hard bounce); any
    other failure raises as is, to be retried.
    """
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    email = to_email(message)
    async with aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port, timeout=30,
                               start_tls=settings.smtp_starttls) as smtp:
        if settings.smtp_username:
            await smtp.login(settings.smtp_username, password or "")
        await smtp.mail(message.from_address)
        try:
            await smtp.rcpt(message.to_address)
        except aiosmtplib.SMTPRecipientRefused as err:
            if err.code >= 500:
                raise AddressRefused(f"{err.code} {err.message}"[:300]) from err
            raise
        if before_data is not None:
            await before_data()
        try:
            reply = await smtp.data(email.as_bytes(policy=SMTP_POLICY))
        except aiosmtplib.SMTPResponseException:
            raise  # the server answered: it refused, nothing was accepted; retry
        except Exception as err:  # the connection broke inside DATA: the server may have it
            raise DeliveryOutcomeUnknown(f"{type(err).__name__}: {err}"[:300]) from err
    return str(reply.message)
