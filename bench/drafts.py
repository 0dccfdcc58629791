"""`python -m bench.drafts`: how specific the outreach drafts are, per drafter, on a fixed set of accounts.

The accounts are the demo CRM data (dormant/demo_data, read straight from the CSVs into EvidencePacks the
way db/evidence_queries.py builds them: newest orders and notes first, offers for the segment and still
valid) plus hard cases built in code: a high-value account with an expansion note, an issue resolved last
month, a seasonal buyer, a competitor note, SMS length, and names in other scripts. Each account that
gets a draft (account-led, marketing-led, held) is assessed with the policy and drafted by the template
and, when OPENAI_API_KEY and OPENAI_BASE_URL are set, by the LLM through DraftingActivities (any
OpenAI-compatible server, a local one included).

Per drafter it reports the share of drafts with no guardrail violation, the stock-phrase rate, the share
citing at least one evidence source, body length per channel, and tokens and cost (LLM only). The
template's target: 100% clean, 0% stock phrases, 100% citing. Writes bench/results/drafts.json. No
database and no Temporal server.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import mean

from reactivation.guardrails import check_draft
from reactivation.models import (
    AccountFacts,
    Assessment,
    EvidencePack,
    HistorySummary,
    NoteFact,
    OfferFact,
    OrderFact,
    OutreachDraft,
    TicketFact,
)
from reactivation.models import Path as AccountPath
from reactivation.policy import assess
from reactivation.specificity import evidence_sources, stock_phrases
from reactivation.templates import draft_outreach

DEMO_DATA = Path(__file__).resolve().parent.parent / "dormant" / "demo_data"
RESULTS = Path(__file__).resolve().parent / "results" / "drafts.json"
AS_OF = datetime(2026, 11, 22, tzinfo=UTC)  # the demo data's dates are absolute; so is this clock
DORMANCY = timedelta(days=90)
DRAFTED = (AccountPath.account_led, AccountPath.marketing_led, AccountPath.hold)
MAX_ROWS = 10  # as db/evidence_queries.py: the newest rows of each history
MAX_NOTES = 5
EXCERPT_CHARS = 600
TARGET = {"no_violation": 1.0, "stock_phrase_rate": 0.0, "citing": 1.0}

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


@dataclass
class DraftRow:
    case: str
    path: str
    channel: str
    violations: list[str]
    stock_phrases: list[str]
    cites_evidence: bool
    body_chars: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


@dataclass
class DrafterReport:
    drafter: str
    rows: list[DraftRow] = field(default_factory=list)

    def share(self, test: Callable[[DraftRow], bool]) -> float:
        return sum(test(r) for r in self.rows) / len(self.rows) if self.rows else 0.0

    def summary(self) -> dict:
        lengths = {}
        for channel in ("email", "sms", "call"):
            sizes = [r.body_chars for r in self.rows if r.channel == channel]
            if sizes:
                lengths[channel] = {"n": len(sizes), "mean_chars": round(mean(sizes)), "max_chars": max(sizes)}
        return {"drafter": self.drafter, "drafts": len(self.rows),
                "no_violation": self.share(lambda r: not r.violations),
                "stock_phrase_rate": self.share(lambda r: bool(r.stock_phrases)),
                "citing": self.share(lambda r: r.cites_evidence),
                "length": lengths,
                "prompt_tokens": sum(r.prompt_tokens for r in self.rows),
                "completion_tokens": sum(r.completion_tokens for r in self.rows),
                "cost_usd": round(sum(r.cost_usd for r in self.rows), 6)}

    def passes(self) -> bool:
        s = self.summary()
        return (s["no_violation"] >= TARGET["no_violation"] and s["stock_phrase_rate"] <= TARGET["stock_phrase_rate"]
                and s["citing"] >= TARGET["citing"])


def row_for(case: str, pack: EvidencePack, assessment: Assessment, draft: OutreachDraft, **usage) -> DraftRow:
    """One draft judged by the same guardrail the product runs, plus the figures the report counts."""
    text = f"{draft.subject}\n{draft.body}\n{draft.follow_up_body}"
    evidence = evidence_sources(pack)
    return DraftRow(case=case, path=assessment.path.value, channel=draft.channel,
                    violations=check_draft(draft, pack, assessment), stock_phrases=stock_phrases(text),
                    cites_evidence=any(s in evidence for c in draft.claims for s in c.sources),
                    body_chars=len(draft.body), **usage)


def drafted(cases: list[Case]) -> list[tuple[str, EvidencePack, Assessment]]:
    """The cases that get a draft, with their assessment (paths without a draft are not drafted)."""
    out = []
    for name, pack in cases:
        assessment = assess(pack, pack.as_of)
        if assessment.path in DRAFTED:
            out.append((name, pack, assessment))
    return out


def evaluate_template(cases: list[Case] | None = None) -> DrafterReport:
    """The template drafter on every case: the function CI runs (tests/test_draft_eval.py)."""
    report = DrafterReport("template")
    for name, pack, assessment in drafted(cases if cases is not None else all_cases()):
        report.rows.append(row_for(name, pack, assessment, draft_outreach(pack, assessment)))
    return report


async def evaluate_llm(cases: list[Case]) -> DrafterReport | None:
    """The LLM drafter through DraftingActivities (feedback redraft included); None without OPENAI_*."""
    if not (os.environ.get("OPENAI_API_KEY") and os.environ.get("OPENAI_BASE_URL")):
        return None
    from temporalio.testing import ActivityEnvironment

    from activities.drafting import DraftingActivities
    from reactivation.activity_models import DraftRequest
    from config.settings import load_settings

    settings = load_settings()
    activities = DraftingActivities(settings)
    report = DrafterReport(f"llm ({settings.openai_model})")
    for name, pack, assessment in drafted(cases):
        request = DraftRequest(pack=pack, assessment=assessment, version=1)
        try:
            result = await ActivityEnvironment().run(activities.prepare_draft, request)
        except Exception as err:
            report.rows.append(DraftRow(name, assessment.path.value, pack.account.preferred_channel,
                                        [f"LLM call failed: {str(err)[:200]}"], [], False, 0))
            continue
        report.rows.append(row_for(name, pack, assessment, result.draft, prompt_tokens=result.prompt_tokens,
                                   completion_tokens=result.completion_tokens,
                                   cost_usd=result.estimated_cost_usd))
    return report


# ---------------------------------------------------------------- the report


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


HEADER = ("| drafter | drafts | no violation | stock phrases | citing evidence | email chars mean/max "
          "| SMS chars mean/max | tokens in/out | cost USD | target |")


def table(reports: list[DrafterReport]) -> str:
    lines = [HEADER, "|---|---|---|---|---|---|---|---|---|---|"]
    for report in reports:
        s = report.summary()
        length = {c: f"{v['mean_chars']}/{v['max_chars']}" for c, v in s["length"].items()}
        tokens = f"{s['prompt_tokens']}/{s['completion_tokens']}" if s["prompt_tokens"] else "-"
        cost = f"{s['cost_usd']:.4f}" if s["prompt_tokens"] else "-"
        verdict = ("PASS" if report.passes() else "FAIL") if report.drafter == "template" else "(reported)"
        lines.append(f"| {report.drafter} | {s['drafts']} | {_pct(s['no_violation'])} | "
                     f"{_pct(s['stock_phrase_rate'])} | {_pct(s['citing'])} | {length.get('email', '-')} | "
                     f"{length.get('sms', '-')} | {tokens} | {cost} | {verdict} |")
    return "\n".join(lines)


def main() -> int:
    cases = all_cases()
    reports = [evaluate_template(cases)]
    llm = asyncio.run(evaluate_llm(cases))
    if llm is None:
        print("LLM: skipped (set OPENAI_API_KEY and OPENAI_BASE_URL to evaluate it too)")
    else:
        reports.append(llm)
    print(table(reports))
    for report in reports:
        for row in report.rows:
            if row.violations or row.stock_phrases or not row.cites_evidence:
                print(f"  {report.drafter} / {row.case}: " + "; ".join(row.violations or row.stock_phrases))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"as_of": AS_OF.isoformat(), "target": TARGET,
                                   "drafters": [{**r.summary(), "rows": [asdict(x) for x in r.rows]}
                                                for r in reports]}, indent=1, ensure_ascii=False))
    print(f"wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return 0 if reports[0].passes() else 1


if __name__ == "__main__":
    sys.exit(main())
