"""The fixed accounts `python -m bench.drafts` drafts: the demo CRM data read straight from its CSVs into
EvidencePacks (the way db/evidence_queries.py builds them), plus hard cases built in code (high value with an
expansion note, an issue resolved last month, a seasonal buyer, a competitor note, SMS length, names in other
scripts)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from reactivation.evidence_model import (
    AccountFacts,
    EvidencePack,
    HistorySummary,
    NoteFact,
    OfferFact,
    OrderFact,
    TicketFact,
)

DEMO_DATA = Path(__file__).resolve().parent.parent / "dormant" / "demo_data"
AS_OF = datetime(2026, 11, 22, tzinfo=UTC)  # the demo data's dates are absolute; so is this clock
DORMANCY = timedelta(days=90)
MAX_ROWS = 10  # as db/evidence_queries.py: the newest rows of each history
MAX_NOTES = 5
EXCERPT_CHARS = 600
Case = tuple[str, EvidencePack]


# ---------------------------------------------------------------- the demo accounts, from the CSVs


def _rows(name: str) -> list[dict]:
    with open(DEMO_DATA / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _cut(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _demo_pack(account: dict, data: dict[str, list[dict]], as_of: datetime) -> EvidencePack:
    aid = account["account_id"]
    facts = {k: v for k, v in account.items() if v != ""}
    facts["account_value"] = float(account["account_value"]) if account["account_value"] else None
    facts["last_activity_at"] = _ts(account["last_activity_at"])
    facts.setdefault("consent_status", "unknown")  # blank is never consent
    tickets = [TicketFact(source=f"tickets:{t['ticket_id']}", opened_at=_ts(t["opened_at"]), status=t["status"],
                          closed_at=_ts(t["closed_at"]) if t["closed_at"] else None, severity=t["severity"],
                          category=t["category"], subject=_cut(t["subject"], 200), excerpt=_cut(t["body"]))
               for t in data["tickets"] if t["account_id"] == aid]
    tickets.sort(key=lambda t: (t.is_open, t.opened_at), reverse=True)
    orders = sorted((OrderFact(source=f"orders:{o['order_id']}", at=_ts(o["at"]), amount=float(o["amount"]),
                               description=_cut(o["description"], 200))
                     for o in data["orders"] if o["account_id"] == aid), key=lambda o: o.at, reverse=True)
    notes = sorted((NoteFact(source=f"notes:{aid}@{_ts(n['at']).isoformat()}", at=_ts(n["at"]),
                             author_email=n["author_email"], excerpt=_cut(n["body"]))
                    for n in data["notes"] if n["account_id"] == aid), key=lambda n: n.at, reverse=True)
    offers = [OfferFact(source=f"offers:{o['offer_id']}", offer_id=o["offer_id"], name=o["name"],
                        description=_cut(o["description"], 300), kind=o["kind"],
                        promotional=o["promotional"] == "true",
                        valid_until=date.fromisoformat(o["valid_until"]) if o["valid_until"] else None)
              for o in sorted(data["offers"], key=lambda o: o["offer_id"])
              if o["segment"] in ("", account["segment"])
              and (not o["valid_until"] or date.fromisoformat(o["valid_until"]) >= as_of.date())]
    return EvidencePack(
        account=AccountFacts(**facts), account_source=f"accounts:{aid}", as_of=as_of,
        tickets=tickets[:MAX_ROWS],
        ticket_summary=HistorySummary(total=len(tickets), open_count=sum(t.is_open for t in tickets)),
        orders=orders[:MAX_ROWS],
        order_summary=HistorySummary(total=len(orders), total_amount=sum(o.amount for o in orders),
                                     first_at=min((o.at for o in orders), default=None),
                                     last_at=max((o.at for o in orders), default=None)),
        notes=notes[:MAX_NOTES], offers=offers)


def demo_cases(as_of: datetime = AS_OF) -> list[Case]:
    """Every dormant demo account as the evidence activity would see it on `as_of`."""
    data = {name: _rows(name) for name in ("accounts", "tickets", "orders", "notes", "offers")}
    return [(a["account_id"], _demo_pack(a, data, as_of)) for a in data["accounts"]
            if _ts(a["last_activity_at"]) < as_of - DORMANCY]


# ---------------------------------------------------------------- hard cases, built in code


def _offers() -> list[OfferFact]:
    return [OfferFact(source="offers:OFF-20PCT", offer_id="OFF-20PCT", name="20% off your next booking",
                      description="20% off one booking made in the next 60 days.", kind="discount", promotional=True),
            OfferFact(source="offers:OFF-REVIEW", offer_id="OFF-REVIEW", name="a free account review",
                      description="A 30-minute review of how your team uses the service, with your account manager.",
                      kind="service")]


def _case(aid: str, *, name: str = "Hardcase Ltd", contact: str = "Jordan Reyes", channel: str = "email",
          value: float = 12_000, tier: str = "standard", relationship: str = "neutral", reason: str = "",
          orders: Iterable[tuple[int, str]] = ((200, "Quarterly booking seats"),),
          notes: Iterable[tuple[int, str]] = (),
          tickets: Iterable[TicketFact] = (), as_of: datetime = AS_OF) -> EvidencePack:
    """A pack as the evidence activity builds it; orders and notes are (days ago, text)."""
    owner = "alex.morgan@demo.dormant"
    order_facts = [OrderFact(source=f"orders:{aid}-{i}", at=as_of - timedelta(days=d), amount=1200.0, description=text)
                   for i, (d, text) in enumerate(orders)]
    ticket_list = list(tickets)
    return EvidencePack(
        account=AccountFacts(account_id=aid, name=name, segment="clinics", tier=tier, owner_email=owner,
                             account_value=value, last_activity_at=as_of - timedelta(days=120),
                             preferred_channel=channel, contact_name=contact, consent_status="granted",
                             inactivity_reason=reason, relationship=relationship, fit="high"),
        account_source=f"accounts:{aid}", as_of=as_of,
        orders=order_facts, order_summary=HistorySummary(total=len(order_facts),
                                                         total_amount=sum(o.amount for o in order_facts)),
        notes=[NoteFact(source=f"notes:{aid}@{i}", at=as_of - timedelta(days=d), author_email=owner, excerpt=text)
               for i, (d, text) in enumerate(notes)],
        tickets=ticket_list,
        ticket_summary=HistorySummary(total=len(ticket_list), open_count=sum(t.is_open for t in ticket_list)),
        offers=_offers())


STRATEGIC_NOTE = ("Renewal went smoothly; they asked for a case study in their sector and want to discuss the new "
                  "reporting module.")
LONG_PRODUCT = "Patient-booking seats for the north and south clinics with extended reminder templates (annual)"
LONG_NOTE = ("Asked about moving the whole group, including the three new satellite clinics they plan to open "
             "next spring, onto one consolidated invoice with a single admin login.")


def hard_cases(as_of: datetime = AS_OF) -> list[Case]:
    """The cases a template most easily gets wrong, each named for what it exercises."""
    def ticket(aid: str, opened: int, closed: int | None, subject: str) -> TicketFact:
        return TicketFact(source=f"tickets:{aid}-T1", opened_at=as_of - timedelta(days=opened), subject=subject,
                          closed_at=as_of - timedelta(days=closed) if closed is not None else None,
                          status="open" if closed is None else "closed", category="bug",
                          excerpt="Our staff could not export the monthly report for our accountant at all.")

    seasonal = [(347, "Holiday gift boxes"), (712, "Holiday gift boxes"), (300, "Sample pack")]  # Decembers
    return [
        ("high value, expansion note", _case(
            "HC-EXPAND", value=480_000, reason="Project wrapped up; no new work booked",
            notes=[(40, "Expanding to two more practices this year; asked about bulk pricing for new locations.")])),
        ("issue resolved last month", _case(
            "HC-RESOLVED", reason="Paused bookings after a staffing change",
            tickets=[ticket("HC-RESOLVED", 40, 30, "Monthly report export fails")], orders=())),
        ("seasonal buyer", _case("HC-SEASON", orders=seasonal, as_of=as_of)),
        ("competitor note", _case(
            "HC-RIVAL", reason="Moved some of their volume elsewhere",
            notes=[(60, "They are trialling a competitor for reminders after our price rise last spring.")])),
        ("open issue", _case(
            "HC-OPEN", tickets=[ticket("HC-OPEN", 50, None, "Invoice charged twice for the March retainer")])),
        ("reason only, no orders", _case("HC-REASON", reason="Budget cut after a leadership change", orders=())),
        ("strategic, case-study request", _case(
            "HC-STRAT", tier="strategic", notes=[(90, STRATEGIC_NOTE)])),
        ("SMS, long evidence", _case(
            "HC-SMS", channel="sms", reason="Paused all bookings after merging two front desks into one team",
            orders=[(150, LONG_PRODUCT), (160, "Reminder SMS bundle")], notes=[(30, LONG_NOTE)])),
        ("SMS, account-led", _case("HC-SMS-AL", channel="sms", relationship="strong",
                                   orders=[(150, "Reminder SMS bundle")])),
        ("non-English: Zoë Müller-Łukasiewicz", _case("HC-ZOE", name="Müller & Łukasiewicz Zahnärzte",
                                                       contact="Zoë Müller-Łukasiewicz", relationship="strong")),
        ("non-English: Nguyễn Thị Minh", _case("HC-VN", name="Nha khoa Minh Tâm", contact="Nguyễn Thị Minh")),
        ("non-English: Ωμέγα Ltd", _case("HC-GR", name="Ωμέγα Ltd", contact="Γιώργος Παπαδόπουλος", tier="strategic")),
        ("non-English: Arabic", _case("HC-AR", name="شركة الأمل للتجارة", contact="سارة الحسن", channel="sms")),
        ("non-English: CJK", _case("HC-JP", name="山田商事株式会社", contact="山田 太郎",
                                   notes=[(20, "Asked about reminder templates in Japanese.")])),
    ]


def all_cases(as_of: datetime = AS_OF) -> list[Case]:
    return [(f"demo {aid}", p) for aid, p in demo_cases(as_of)] + [(f"hard: {n}", p) for n, p in hard_cases(as_of)]


# ---------------------------------------------------------------- the evaluation
