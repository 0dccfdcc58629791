"""The pure composer of owner notifications: links, caps, one-line subjects, what each recipient sees."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from reactivation import notifications as compose
from reactivation.notifications import (
    NotifySetting,
    ReviewAlert,
    WaitingAccount,
    allowed,
)
from reactivation.plain_text import header_unsafe
from reactivation.vocabulary import NotificationKind

URL = "https://dormant.example"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
HOSTILE = "Acme\r\nBcc: victim@evil.example\x00\u2028" + "名前" * 10 + "x" * 1_000_000


def waiting(n: int, **extra) -> WaitingAccount:
    return WaitingAccount(account_id=f"acc/{n}", name=f"Account {n}", account_value=1000.0 * n, currency="EUR",
                          stage="awaiting_review", recommended_next_step=f"call about order {n}", **extra)


def test_digest_lists_at_most_five_with_links_and_the_count():
    n = compose.digest("Alex@Example.com", date(2026, 12, 2), 7, [waiting(i) for i in range(1, 8)], URL)
    assert n.subject == "7 accounts waiting for your review (2026-12-02)"
    assert n.body.count(f"{URL}/review/accounts/acc%2F") == 5 and "Account 6" not in n.body
    assert "5,000 EUR" in n.body and "call about order 5" in n.body and "... and 2 more" in n.body
    assert f"<{URL}/review/accounts/acc%2F1|Account 1>" in n.slack_text
    assert n.key == "notify/digest/alex@example.com/2026-12-02" and n.recipient == "Alex@Example.com"


def test_reminder_and_escalation_name_the_owner_and_the_wait():
    alert = ReviewAlert(account_id="a1", episode="e1", name="Harbor", owner_email="o@x.example",
                        waiting_since=NOW - timedelta(days=8))
    r = compose.reminder(alert, "o@x.example", URL, NOW)
    assert r.subject == "Reminder: Harbor has waited 8 days for your review" and f"{URL}/review/accounts/a1" in r.body
    admins = compose.escalations(alert, ["b@x.example", "a@x.example"], URL, NOW)
    assert [n.recipient for n in admins] == ["b@x.example", "a@x.example"]
    assert len({n.key for n in admins}) == 2 and "o@x.example" in admins[0].subject and "8 days" in admins[0].body


def test_hostile_text_stays_out_of_headers_and_is_capped():
    alert = ReviewAlert(account_id="a\r\n1", episode="e", name=HOSTILE, owner_email="o@x.example")
    notes = [compose.reminder(alert, "o@x.example", URL, NOW), *compose.escalations(alert, ["a@x"], URL, NOW),
             compose.digest("o@x.example", NOW.date(), 1, [WaitingAccount(account_id="a", name=HOSTILE,
                                                                          stage="awaiting_review")], URL),
             compose.reply(account_id="a", episode="e", inbound_message_id="<m\r\n@x>", recipient="o@x.example",
                           account_name=HOSTILE, from_address="Eve <eve@x>\r\nBcc: y@z", subject=HOSTILE,
                           new_text=HOSTILE, public_url=URL)]
    for n in notes:
        assert not header_unsafe(n.subject) and len(n.subject) <= compose.SUBJECT_CHARS
        assert "\x00" not in n.body and "\r" not in n.body and len(n.body) < 5000
        assert "<!" not in (n.slack_text or "")  # no Slack mention or link from untrusted text
        if n.kind != NotificationKind.reply:  # a reply's excerpt keeps its lines: body text, not headers
            assert "\nBcc:" not in n.body
        assert "\r" not in n.key and "\n" not in n.key and len(n.key) < 400


def test_reply_body_has_an_excerpt_and_slack_has_no_customer_words():
    n = compose.reply(account_id="a1", episode="e1", inbound_message_id="<m1@x>", recipient="o@x.example",
                      account_name="Harbor", from_address="jo@customer.example", subject="Re: hello",
                      new_text="Yes <b>please</b> call me " + "y" * 2000, public_url=URL)
    assert n.subject == "Harbor replied: Re: hello" and "jo@customer.example" in n.body
    assert "Yes <b>please</b> call me" in n.body and "y" * 600 not in n.body
    assert "please" not in n.slack_text and f"<{URL}/review/accounts/a1|Harbor>" in n.slack_text
    other = compose.reply(account_id="a1", episode="e1", inbound_message_id="<m2@x>", recipient="o@x.example",
                          account_name="Harbor", from_address="x", subject="", new_text="", public_url=URL)
    assert other.key != n.key


def test_quiet_settings():
    for kind in NotificationKind:
        assert allowed(kind, NotifySetting.all) and allowed(kind, None)
        assert allowed(kind, NotifySetting.digest) == (kind in (NotificationKind.digest, NotificationKind.escalation))
        assert allowed(kind, NotifySetting.none) == (kind == NotificationKind.escalation)
