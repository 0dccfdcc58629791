"""The demo data set keeps its coverage promise, read straight from the CSVs (no database, no servers).

`dormant dev` imports these files, so they are the first thing a new user sees: every path of the policy
must be reachable from them, the demo owner's queue must open on a clean, approvable account, and nothing
in them may reach a real person (reserved domains, fictional phone numbers). The README's account table is
checked against the policy itself, so it cannot silently go stale. The database-backed twin of the path
check lives in test_crm_import.py.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta

import pytest

from dormant.demo import DEMO_DATA, DEMO_OWNER
from reactivation.evidence_model import AccountFacts, EvidencePack, HistorySummary, NoteFact, TicketFact
from reactivation.policy import assess
from reactivation.vocabulary import Path

NOW = datetime(2026, 11, 22, tzinfo=UTC)  # the data's dates are absolute; so is this test's clock
DORMANCY = timedelta(days=90)
OPTIONAL = ["tickets", "orders", "activities", "notes", "offers"]


def load(name: str) -> list[dict]:
    with open(DEMO_DATA / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict]]:
    return {name: load(name) for name in ["accounts", *OPTIONAL]}


def test_columns_are_the_import_contract(data):
    header = {name: list(rows[0]) for name, rows in data.items()}
    assert header["accounts"] == ["account_id", "name", "segment", "tier", "owner_email", "account_value", "currency", "last_activity_at", "preferred_channel", "contact_name", "contact_email", "contact_phone", "timezone", "consent_status", "inactivity_reason", "risk_level", "relationship", "fit"]
    assert header["tickets"] == ["ticket_id", "account_id", "opened_at", "closed_at", "status", "severity", "category", "subject", "body"]
    assert header["orders"] == ["order_id", "account_id", "at", "amount", "description"]
    assert header["activities"] == ["account_id", "at", "type", "detail"]
    assert header["notes"] == ["account_id", "at", "author_email", "body"]
    assert header["offers"] == ["offer_id", "name", "description", "kind", "promotional", "segment", "valid_until"]


def test_every_case_the_policy_distinguishes_is_present(data):
    accounts = data["accounts"]
    assert len(accounts) >= 60
    present = {
        "blank owner": any(not a["owner_email"] for a in accounts),
        "blank value": any(not a["account_value"] for a in accounts),
        "blank consent": any(not a["consent_status"] for a in accounts),
        "opted out": any(a["consent_status"] == "opted_out" for a in accounts),
        "strategic": any(a["tier"] == "strategic" for a in accounts),
        "call": any(a["preferred_channel"] == "call" for a in accounts),
        "sms": any(a["preferred_channel"] == "sms" for a in accounts),
        "open ticket": any(not t["closed_at"] and t["status"] == "open" for t in data["tickets"]),
        "high risk": any(a["risk_level"] == "high" for a in accounts),
        "strong relationship": any(a["relationship"] == "strong" for a in accounts),
        "do not contact / competitor": any(re.search(r"do not contact", n["body"], re.I) for n in data["notes"])
        or any(re.search(r"competitor", a["inactivity_reason"], re.I) for a in accounts),
        "seasonal": any(re.search(r"season", a["inactivity_reason"], re.I) for a in accounts),
        "not dormant": any(ts(a["last_activity_at"]) > NOW - DORMANCY for a in accounts),
        "prompt injection": any("ignore previous instructions" in n["body"].lower() for n in data["notes"]),
        "promotional and non-promotional offers": {o["promotional"] for o in data["offers"]} == {"true", "false"},
        "segment offer": any(o["segment"] for o in data["offers"]),
    }
    assert [case for case, ok in present.items() if not ok] == []
    assert sum(a["owner_email"] == DEMO_OWNER for a in accounts) >= 20


def test_keys_are_unique_and_children_point_at_accounts(data):
    ids = [a["account_id"] for a in data["accounts"]]
    assert len(ids) == len(set(ids))
    for name in ["tickets", "orders", "activities", "notes"]:
        orphans = [r["account_id"] for r in data[name] if r["account_id"] not in set(ids)]
        assert orphans == [], name
    for name, key in [("tickets", ("ticket_id",)), ("orders", ("order_id",)), ("offers", ("offer_id",)),
                      ("activities", ("account_id", "at", "type")), ("notes", ("account_id", "at", "author_email"))]:
        keys = [tuple(r[k] for k in key) for r in data[name]]
        assert len(keys) == len(set(keys)), name


def test_nothing_can_reach_a_real_person(data):
    for a in data["accounts"]:
        assert re.fullmatch(r"[a-z.]+@example\.(com|org|net)", a["contact_email"]), a["contact_email"]
        assert re.fullmatch(r"\+1-555-01\d\d", a["contact_phone"]), a["contact_phone"]
        assert a["owner_email"] == "" or a["owner_email"].endswith("@demo.dormant")


def test_history_is_deep_enough_to_matter(data):
    per_account = {}
    for order in data["orders"]:
        per_account[order["account_id"]] = per_account.get(order["account_id"], 0) + 1
    assert all(per_account.get(a["account_id"], 0) >= 3 for a in data["accounts"])
    last = {a["account_id"]: ts(a["last_activity_at"]) for a in data["accounts"]}
    assert all(ts(o["at"]) <= last[o["account_id"]] for o in data["orders"])


def evidence(account: dict, data: dict) -> EvidencePack:
    aid = account["account_id"]
    facts = {k: v for k, v in account.items() if v != ""}
    facts["account_value"] = float(account["account_value"]) if account["account_value"] else None
    facts["last_activity_at"] = ts(account["last_activity_at"])
    facts.setdefault("consent_status", "unknown")  # blank is never consent
    tickets = [TicketFact(source=f"tickets:{t['ticket_id']}", opened_at=ts(t["opened_at"]), status=t["status"],
                          closed_at=ts(t["closed_at"]) if t["closed_at"] else None, subject=t["subject"],
                          excerpt=t["body"]) for t in data["tickets"] if t["account_id"] == aid]
    notes = [NoteFact(source=f"notes:{aid}@{n['at']}", at=ts(n["at"]), author_email=n["author_email"],
                      excerpt=n["body"]) for n in data["notes"] if n["account_id"] == aid]
    orders = sum(o["account_id"] == aid for o in data["orders"])
    return EvidencePack(account=AccountFacts(**facts), account_source=f"accounts:{aid}", as_of=NOW,
                        tickets=tickets, notes=notes, order_summary=HistorySummary(total=orders))


def readme_paths() -> dict[str, str]:
    rows = re.findall(r"^\| (ACC-\d+) \|[^|]+\|[^|]+\| ([a-z_ ]+) \|", (DEMO_DATA / "README.md").read_text(), re.M)
    return dict(rows)


def test_each_account_reaches_the_path_its_readme_row_promises(data):
    promised = readme_paths()
    assert set(promised) == {a["account_id"] for a in data["accounts"]}
    reached = {}
    for account in data["accounts"]:
        if promised[account["account_id"]] == "not dormant":
            assert ts(account["last_activity_at"]) > NOW - DORMANCY
            continue
        assert ts(account["last_activity_at"]) < NOW - DORMANCY, account["account_id"]
        reached[account["account_id"]] = assess(evidence(account, data), NOW).path.value
    assert {aid: promised[aid] for aid in reached} == reached
    assert set(reached.values()) == {p.value for p in Path}


def test_the_demo_owner_queue_opens_on_the_high_value_account_led_account(data):
    """The issue-17 case: a 240,000 USD clinic group with an expansion note is owner-led, not a discount."""
    scored = []
    for account in data["accounts"]:
        if account["owner_email"] == DEMO_OWNER and ts(account["last_activity_at"]) < NOW - DORMANCY:
            result = assess(evidence(account, data), NOW)
            if result.path in (Path.marketing_led, Path.account_led, Path.hold):  # what the queue shows
                scored.append((result.priority.score, account["account_id"], result))
    score, top, result = max(scored)
    assert top == "ACC-1001" and result.path == Path.account_led and result.flags == ["high_context"]
    [verdict] = [v for v in result.verdicts if v.rule == "high_context"]
    assert "240,000 USD is at or above 100,000" in verdict.reason and not result.promotional_allowed
    assert score > sorted(scored)[-2][0]
