"""The two shapes of inbound mail handling and the limits on hostile input: `ParsedInbound` (what parsing
gives) and `Verdict` (what classifying gives).

Split out of reactivation/inbound_mail.py so that the parsing module and the rule modules (bounces,
auto-replies, opt-outs) can share them without importing each other; inbound_mail re-exports them. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

from reactivation.vocabulary import InboundClass

MAX_RAW_BYTES = 4_000_000  # a win-back reply is never this big; what follows is not parsed at all
MAX_TEXT_CHARS = 100_000
MAX_HEADER_CHARS = 2_000
MAX_ID_HEADER_CHARS = 50_000  # a long thread's References: the id we sent may be the last of hundreds
UNSUBSCRIBE_MAX_WORDS = 12
RETURN_HORIZON_DAYS = 180

# Raw headers kept on ParsedInbound (lower-cased names): the ones the rules read, and a few for the log.
KEPT_HEADERS = (
    "auto-submitted", "x-autoreply", "x-autorespond", "x-autoresponder", "precedence", "content-type",
    "x-ms-exchange-inbox-rules-loop", "x-auto-response-suppress", "x-failed-recipients", "list-id",
    "return-path", "x-ms-exchange-generated-message-source",
)


@dataclass(frozen=True)
class ParsedInbound:
    """The parts of an inbound email the classifier and the matching need, decoded and bounded."""

    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    from_address: str | None = None
    subject: str = ""
    text: str = ""
    new_text: str = ""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    report_status: str | None = None
    report_recipients: tuple[str, ...] = ()
    original_message_id: str | None = None


class Verdict(BaseModel):
    """One inbound message's class, with the sentence that says which header, phrase or status decided."""

    model_config = ConfigDict(frozen=True)

    kind: InboundClass
    reason: str
    return_on: date | None = None
    needs_owner: bool = False
    status: str | None = None
    addresses: tuple[str, ...] = ()
