"""The inbound classifier on a corpus of real-world-shaped messages, and its parts on their own.

The corpus (tests/reactivation/inbound_corpus, labelled in labels.json) is what bench/inbound_accuracy.py measures: here
every hard case must be right and the overall accuracy must hold at 95%. The focused tests pin the return
date forms, the Message-ID / reply-token extraction, and that hostile bytes never make parse_message raise.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reactivation.inbound_mail import (
    ParsedInbound,
    Verdict,
    classify,
    message_ids,
    parse_message,
    reply_token,
    return_date,
    strip_quoted,
)
from reactivation.vocabulary import InboundClass

CORPUS = Path(__file__).parent / "inbound_corpus"
LABELS = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))
TODAY = date(2026, 12, 2)
TARGET_ACCURACY = 0.95


def _verdict(name: str) -> Verdict:
    label = LABELS[name]
    return classify(parse_message((CORPUS / name).read_bytes()), date.fromisoformat(label["today"]))


def _matches(name: str, verdict: Verdict) -> bool:
    """Right when the class, the return date and the owner flag are all what the label says."""
    label = LABELS[name]
    expected_return = date.fromisoformat(label["return_on"]) if label["return_on"] else None
    return (verdict.kind == InboundClass(label["kind"]) and verdict.return_on == expected_return
            and verdict.needs_owner == label["needs_owner"])


def _raw(headers: str, body: str = "", charset: str = "utf-8") -> bytes:
    return (headers.strip() + f"\nContent-Type: text/plain; charset={charset}\n\n" + body).encode(charset)


# --------------------------------------------------------------------------------------------- corpus

def test_corpus_is_big_and_fully_labelled():
    files = {path.name for path in CORPUS.glob("*.eml")}
    assert len(files) >= 30
    assert files == set(LABELS)
    assert {InboundClass(label["kind"]) for label in LABELS.values()} == set(InboundClass)


@pytest.mark.parametrize("name", sorted(n for n, label in LABELS.items() if label["hard"]))
def test_every_hard_case_is_right(name):
    verdict = _verdict(name)
    assert _matches(name, verdict), (name, verdict)
    assert verdict.reason


def test_overall_accuracy():
    right = sum(_matches(name, _verdict(name)) for name in LABELS)
    assert right / len(LABELS) >= TARGET_ACCURACY


@pytest.mark.parametrize("name", sorted(LABELS))
def test_every_corpus_message_parses_with_a_reason(name):
    verdict = _verdict(name)
    assert verdict.reason.strip()
    assert isinstance(verdict.kind, InboundClass)


def test_bounces_name_status_and_failed_addresses():
    verdict = _verdict("postfix_dsn_511.eml")
    assert (verdict.kind, verdict.status, verdict.addresses) == (
        InboundClass.hard_bounce, "5.1.1", ("old.buyer@ridgeway-hotels.com",))
    assert _verdict("mailbox_full_422.eml").status == "4.2.2"
    assert _verdict("exim_mail_delivery_failed.eml").addresses == ("sales@oldtown-bakery.co.uk",)
    assert _verdict("exchange_ndr_550_text.eml").addresses == ("r.patel@fabrikam-legal.com",)
    assert "no status code" in _verdict("bounce_no_code.eml").reason


def test_ambiguous_opt_out_goes_to_the_owner():
    verdict = _verdict("ambiguous_stop_discounts.eml")
    assert verdict.kind == InboundClass.human_reply and verdict.needs_owner
    assert "unsubscribe" in verdict.reason


# --------------------------------------------------------------------------------------------- parsing

def test_dsn_fields_and_message_ids():
    parsed = parse_message((CORPUS / "postfix_dsn_511.eml").read_bytes())
    assert parsed.report_status == "5.1.1"
    assert parsed.report_recipients == ("old.buyer@ridgeway-hotels.com",)
    assert parsed.original_message_id == "<win-back.A-8001.1@outreach.example.com>"
    assert message_ids(parsed) == ("<win-back.A-8001.1@outreach.example.com>",)
    headers_only = parse_message((CORPUS / "postfix_dsn_headers_only.eml").read_bytes())
    assert headers_only.original_message_id == "<win-back.A-8100.1@outreach.example.com>"


def test_message_ids_are_in_order_and_deduplicated():
    parsed = parse_message(_raw("""
Message-ID: <me@x>
In-Reply-To: <b@ours>
References: <a@ours>
 <b@ours> <c@ours>
"""))
    assert parsed.message_id == "<me@x>"
    assert message_ids(parsed) == ("<b@ours>", "<a@ours>", "<c@ours>")
    bare = parse_message(_raw("In-Reply-To: b@ours"))
    assert bare.in_reply_to == ("<b@ours>",)


def test_reply_token_from_plus_address():
    parsed = parse_message(_raw("""
From: "Ann" <Ann@Customer.COM>
To: Someone <someone@else.com>, "Us" <Reply+0123abcd@Outreach.Example.com>
Cc: reply+ffff@other.example.com
"""))
    assert parsed.from_address == "ann@customer.com"
    assert reply_token(parsed, "reply") == "0123abcd"
    assert reply_token(parsed, "REPLY") == "0123abcd"
    assert reply_token(parsed, "bounces") is None
    delivered = parse_message(_raw("To: undisclosed-recipients:;\nDelivered-To: reply+beef@outreach.example.com"))
    assert reply_token(delivered, "reply") == "beef"
    assert reply_token(parse_message(_raw("To: reply+@x.com")), "reply") is None


@pytest.mark.parametrize("text", [
    "Thanks!\n\nOn Tue, Dec 1, 2026 at 10:02 AM Tom <tom@x.com> wrote:\n> old\n> unsubscribe",
    "Thanks!\n\nOn Tue, Dec 1, 2026 at 10:02 AM Tom <tom@x.com>\nwrote:\n\n> unsubscribe",
    "Thanks!\n\n-----Original Message-----\nFrom: Tom\nSent: Tuesday\n\nunsubscribe",
    "Thanks!\n\nFrom: Tom <tom@x.com>\nSent: Tuesday, December 1, 2026 3:11 PM\nTo: A\n\nunsubscribe",
    "Thanks!\n\nAm 01.12.2026 um 09:30 schrieb Tom <tom@x.com>:\n\nabmelden",
    "Thanks!\n\nLe mar. 1 déc. 2026 à 10:12, Tom <tom@x.com> a écrit :\ndésabonner",
    "Thanks!\n\nEl mar, 1 dic 2026 a las 10:00, Tom (<tom@x.com>) escribió:\nbaja",
    "Thanks!\n\nVon: Tom <tom@x.com>\nGesendet: Dienstag\nabmelden",
])
def test_quoted_history_is_stripped(text):
    assert strip_quoted(text) == "Thanks!"


def test_subject_is_decoded_to_one_line():
    parsed = parse_message(b"Subject: =?UTF-8?B?0J7RgtCy0LXRgg==?=\r\n =?UTF-8?Q?_=E2=9C=93?=\r\n\r\nhi")
    assert parsed.subject == "Ответ ✓"


# --------------------------------------------------------------------------------------------- return dates

@pytest.mark.parametrize(("text", "expected"), [
    ("I will be back on Monday 14 December.", date(2026, 12, 14)),
    ("I'm out until December 21st.", date(2026, 12, 21)),
    ("I will return on 12/14/2026.", date(2026, 12, 14)),
    ("Out of office until 2027-01-06.", date(2027, 1, 6)),
    ("Ich bin bis zum 14.12.2026 nicht im Büro.", date(2026, 12, 14)),
    ("Ich bin ab dem 7. Januar wieder im Büro.", date(2027, 1, 7)),
    ("Ich bin bis 18. Dezember abwesend.", date(2026, 12, 18)),
    ("Je suis absent jusqu'au 14/12/2026.", date(2026, 12, 14)),
    ("De retour le lundi 4 janvier 2027.", date(2027, 1, 4)),
    ("Estaré fuera hasta el 14/12/2026.", date(2026, 12, 14)),
    ("Fuera de la oficina hasta el 11 de enero de 2027.", date(2027, 1, 11)),
    ("Away from 3 December until 10 December, back on 11 December.", date(2026, 12, 11)),
    ("I am out of the office with limited access to email.", None),
    ("I was back on 1 November 2026.", None),  # in the past
    ("I will return on 1 December 2027.", None),  # more than 180 days away
    ("Back on 31.02.2027.", None),  # no such day
])
def test_return_date_forms(text, expected):
    assert return_date(text, TODAY) == expected


def test_return_date_rolls_over_the_year():
    assert return_date("I'll be back on 5 January.", date(2026, 12, 20)) == date(2027, 1, 5)
    assert return_date("Ab dem 05.01. bin ich wieder da.", date(2026, 12, 20)) == date(2027, 1, 5)
    assert return_date("De retour le 5 janvier.", date(2026, 12, 20)) == date(2027, 1, 5)
    assert return_date("Back on 5 January.", date(2027, 1, 5)) == date(2027, 1, 5)  # today counts


def test_auto_reply_carries_the_return_date():
    parsed = parse_message(_raw("Subject: Automatic reply: hello\nFrom: a@b.com",
                                "I am out of the office and back on 5 January."))
    verdict = classify(parsed, date(2026, 12, 20))
    assert (verdict.kind, verdict.return_on) == (InboundClass.auto_reply, date(2027, 1, 5))


# --------------------------------------------------------------------------------------------- rules

@pytest.mark.parametrize(("headers", "body", "kind"), [
    ("Auto-Submitted: no\nSubject: Re: hello", "Sounds good, call me.", InboundClass.human_reply),
    ("Auto-Submitted: auto-replied\nSubject: Re: hello", "Thanks for your mail.", InboundClass.auto_reply),
    ("X-Autoreply: yes\nSubject: Re: hello", "Thanks.", InboundClass.auto_reply),
    ("Precedence: auto_reply\nSubject: Re: hello", "Thanks.", InboundClass.auto_reply),
    ("Precedence: bulk\nSubject: Re: hello", "I am on vacation.", InboundClass.auto_reply),
    ("Precedence: bulk\nSubject: Re: hello", "Let's meet Tuesday.", InboundClass.human_reply),
    ("Subject: Abwesenheitsnotiz: Hallo", "Bin weg.", InboundClass.auto_reply),
    ("Subject: Nicht im Büro: Hallo", "Bin weg.", InboundClass.auto_reply),
    ("Subject: Absence du bureau", "Absent.", InboundClass.auto_reply),
    ("Subject: Fuera de la oficina: Hola", "Fuera.", InboundClass.auto_reply),
    ("Subject: Re: Out of Office: hello", "I'm back, let's talk.", InboundClass.human_reply),
    ("From: MAILER-DAEMON@x.com\nSubject: Mail delivery failed", "550 5.1.1 user unknown",
     InboundClass.hard_bounce),
    ("From: postmaster@x.com\nSubject: Delivery Status Notification (Delay)", "Still trying.",
     InboundClass.soft_bounce),
    ("From: postmaster@x.com\nSubject: Undeliverable: hi", "452 4.2.2 mailbox full", InboundClass.soft_bounce),
    ("Subject: Re: hi", "STOP", InboundClass.unsubscribe),
    ("Subject: Re: hi", "Hi Tom,\n\nPlease take me off your list.\n\nThanks,\nAnn", InboundClass.unsubscribe),
    ("Subject: unsubscribe", "", InboundClass.unsubscribe),
    ("Subject: Re: hi", ("Stop by our booth at the fair next week, we'd love to see the new features and "
                        "talk pricing with your team."), InboundClass.human_reply),
])
def test_rules(headers, body, kind):
    verdict = classify(parse_message(_raw(headers, body)), TODAY)
    assert verdict.kind == kind, verdict
    assert not (kind == InboundClass.human_reply and verdict.needs_owner)


def test_long_message_with_unsubscribe_is_flagged_not_suppressed():
    body = ("Hi Tom, we are not ready to come back yet, but do not unsubscribe me - I want to hear about "
            "the new scheduling features when they ship next quarter. Thanks, Ann")
    verdict = classify(parse_message(_raw("Subject: Re: hi", body)), TODAY)
    assert verdict.kind == InboundClass.human_reply and verdict.needs_owner


# --------------------------------------------------------------------------------------------- hostile input

@pytest.mark.parametrize("raw", [
    b"",
    b"\x00\x00\x00",
    b"Subject: a\x00b\r\nFrom: x\x00@y.com\r\n\r\nbody\x00with NUL",
    b"Subject: Re: hi\r\nX-Injected: a\rb\nc\r\nTo: reply+abc@x.com\r\r\n\r\nhello",
    b"Subject: =?unknown-charset?Q?=FF=FE?=\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n\xff\xfe",
    (b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\n"
    b"Content-Type: message/delivery-status\r\n\r\nStatus: garbage\r\n--b"),
    b"Content-Type: multipart/mixed; boundary=x\r\n\r\n" + b"--x\r\n" * 5000,
    b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
    "Subject: Автоматический ответ\r\n\r\nمرحبا 你好 привет".encode(),
    bytes(range(256)) * 10,
])
def test_hostile_input_never_raises(raw):
    parsed = parse_message(raw)
    assert isinstance(parsed, ParsedInbound)
    assert "\n" not in parsed.subject and "\r" not in parsed.subject and "\x00" not in parsed.subject
    assert "\x00" not in parsed.text
    assert isinstance(classify(parsed, TODAY), Verdict)


def test_one_megabyte_body_is_capped():
    raw = _raw("Subject: Re: hi", "word " * 250_000)
    parsed = parse_message(raw)
    assert len(parsed.text) <= 100_000
    assert classify(parsed, TODAY).kind == InboundClass.human_reply


def test_empty_bytes_give_empty_fields():
    parsed = parse_message(b"")
    assert (parsed.message_id, parsed.subject, parsed.text, message_ids(parsed)) == (None, "", "", ())
    assert classify(parsed, TODAY).kind == InboundClass.human_reply


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2_000))
def test_parse_message_never_raises(raw):
    classify(parse_message(raw), TODAY)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=500))
def test_parse_message_never_raises_on_header_shaped_text(text):
    raw = ("Subject: " + text + "\nContent-Type: multipart/report; boundary=b\n\n--b\n" + text).encode(
        "utf-8", errors="replace")
    classify(parse_message(raw), TODAY)


def test_our_id_at_the_end_of_a_long_references_header_is_kept():
    refs = " ".join(f"<{i}@thread.example.com>" for i in range(400))
    parsed = parse_message(_raw(f"References: {refs} <win-back.A-1.1@outreach.example.com>"))
    assert message_ids(parsed)[-1] == "<win-back.A-1.1@outreach.example.com>"


@pytest.mark.parametrize("body", ["Can you remove the second seat from our plan?", "Please stop the renewal invoice.",
                                  "Not interested, thanks."])
def test_short_business_messages_are_not_opt_outs(body):
    verdict = classify(parse_message(_raw("Subject: Re: hi", body)), TODAY)
    assert verdict.kind == InboundClass.human_reply and not verdict.needs_owner


def test_failure_subject_from_a_person_is_not_a_bounce():
    raw = _raw("From: ann@customer.com\nSubject: Undelivered parcel", "Hi Tom, your parcel never arrived.")
    assert classify(parse_message(raw), TODAY).kind == InboundClass.human_reply
