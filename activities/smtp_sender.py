"""SMTP sending with aiosmtplib: host, port, STARTTLS and credentials from settings, never from inputs.

The message is built and serialised before connecting. What cannot be serialised (a line break or a
control character in a header, text that cannot be encoded) raises InvalidMessage: no retry can fix it,
and a serialisation error raised inside DATA would otherwise be mistaken for a broken connection whose
outcome is unknown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import aiosmtplib

from config.settings import Settings
from reactivation.delivery_model import AddressRefused, DeliveryOutcomeUnknown, InvalidMessage, OutgoingMessage
from reactivation.plain_text import body_unsafe, header_unsafe


def to_email(message: OutgoingMessage) -> EmailMessage:
    """The message as an EmailMessage; InvalidMessage when a header or the body cannot be sent as is.

    Control characters are refused here even where the email library would let them through (a NUL or a
    trailing line feed in a header is written to the wire as is), and whatever the library refuses
    (ValueError for CR/LF in a header, an unencodable body) is turned into InvalidMessage too.
    """
    headers = [("From", message.from_address), ("To", message.to_address), ("Subject", message.subject),
               *message.headers.items()]
    for name, value in headers:
        if header_unsafe(value):
            raise InvalidMessage(f"the {name} header contains a line break or control character")
    if body_unsafe(message.body, allow_cr=True):
        raise InvalidMessage("the body contains a control character such as NUL")
    email = EmailMessage()
    try:
        for name, value in headers:
            email[name] = value
        email.set_content(message.body)
    except (ValueError, TypeError) as err:  # UnicodeError is a ValueError
        raise InvalidMessage(f"the email library refused the message: {err}"[:300]) from err
    return email


def to_bytes(message: OutgoingMessage) -> bytes:
    """The message as SMTP DATA; InvalidMessage when it cannot be serialised (see `to_email`)."""
    email = to_email(message)
    try:
        return email.as_bytes(policy=SMTP_POLICY)
    except (ValueError, TypeError) as err:
        raise InvalidMessage(f"the message cannot be serialised: {err}"[:300]) from err


async def send_email(settings: Settings, message: OutgoingMessage,
                     before_data: Callable[[], Awaitable[None]] | None = None) -> str:
    """Hand the message to the SMTP server; return its reply.

    `before_data` runs after the server accepted sender and recipient and just before DATA: only from
    there on can the server have the message, so only a crash after it leaves the outcome unknown.
    A permanent (5xx) refusal of the recipient raises AddressRefused (a synchronous hard bounce); a
    message that cannot be built raises InvalidMessage before connecting; both are permanent. Any other
    failure raises as is, to be retried.
    """
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    data = to_bytes(message)
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
            reply = await smtp.data(data)
        except aiosmtplib.SMTPResponseException:
            raise  # the server answered: it refused, nothing was accepted; retry
        except Exception as err:  # the connection broke inside DATA: the server may have it
            raise DeliveryOutcomeUnknown(f"{type(err).__name__}: {err}"[:300]) from err
    return str(reply.message)
