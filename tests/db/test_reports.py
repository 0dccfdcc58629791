"""Measurement reports against the real PostgreSQL: a hand-built ledger, and every number checked
against a count done by hand (the comments show the counting).

Tests share one database, so each test writes its ledger under its own owner email(s) and reads it back
through the owner filter, which is also what an owner sees through the API.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from api.report_render import render_text
from db.owners import add_owner
from db.report_measures import holdout_lift, path_coverage, pilot_threshold, time_to_decision, unresolved_issues
from db.report_scope import Scope
from db.reports import closed_reasons, full_report, funnel, funnel_groups
from reactivation.lift import compute_lift
from tests.support.api import api_client, bearer
from tests.support.crm_fixtures import add_account

T0 = datetime(2024, 3, 4, 9, tzinfo=UTC)  # a Monday, so week groups start on T0's date
H, D = timedelta(hours=1), timedelta(days=1)
CSV_HEADER = "event_id,at,type,account_id,workflow_id,episode,stage,path,owner_email,segment,detail"


class Ledger:
    """Ledger rows for one owner, written in one go; ids are deterministic like the workflow's."""

    def __init__(self, prefix: str, owner: str):
        self.prefix, self.owner, self.rows = prefix, owner, []

    def add(self, name: str, type_: str, at: datetime, path: str | None, episode: str = "e1", **detail) -> None:
        account_id = f"{self.prefix}-{name}"
        self.rows.append((f"dormant-account-{account_id}:{episode}:{len(self.rows)}:{type_}", at, type_, account_id,
                          f"dormant-account-{account_id}", episode, type_, path, self.owner,
                          f"{self.prefix}-seg", detail))

    async def write(self, pool) -> None:
        async with pool.acquire() as conn:
            await conn.executemany(
                """INSERT INTO measurement_events (event_id, at, type, account_id, workflow_id, episode, stage, path,
                   owner_email, segment, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""", self.rows)


def reviewed_then(ledger: Ledger, name: str, path: str, asked: datetime, hours: float, by: str | None = None) -> None:
    """awaiting_review at `asked`, reviewed `hours` later (by the owner unless `by`), then approved."""
    ledger.add(name, "awaiting_review", asked, path)
    decided = asked + timedelta(hours=hours)
    ledger.add(name, "reviewed", decided, path, by=by or ledger.owner, draft_version=1, policy_version="p1")
    ledger.add(name, "approved", decided, path, by=by or ledger.owner)


def main_ledger(prefix: str, owner: str) -> Ledger:
    """Seven accounts, one per story. a1-a7 below; the hand counts in the tests refer to them."""
    led = Ledger(prefix, owner)
    # a1 account_led: reviewed 2 h after asking, sent, followed up, answered, came back.
    led.add("a1", "draft_generated", T0, "account_led", prompt_tokens=100, completion_tokens=50,
            estimated_cost_usd=0.001, by="gpt-4o-mini")
    reviewed_then(led, "a1", "account_led", T0, 2)
    for kind, at in (("sent", T0 + 3 * H), ("follow_up_sent", T0 + 3 * D), ("responded", T0 + 4 * D),
                     ("reactivated", T0 + 5 * D)):
        led.add("a1", kind, at, "account_led")
    # a2 account_led: reviewed after 10 h, sent, followed up, no answer.
    reviewed_then(led, "a2", "account_led", T0, 10)
    led.add("a2", "sent", T0 + 11 * H, "account_led")
    led.add("a2", "follow_up_sent", T0 + 3 * D, "account_led")
    led.add("a2", "closed", T0 + 6 * D, "account_led", reason="no_response", outcome="no_response")
    # a3 marketing_led with an unresolved issue: reminded, held after 30 h, closed by the owner.
    led.add("a3", "unresolved_issue_flagged", T0, "marketing_led")
    led.add("a3", "awaiting_review", T0, "marketing_led")
    led.add("a3", "reminder_sent", T0 + D, "marketing_led")
    led.add("a3", "reviewed", T0 + 30 * H, "marketing_led", by=owner, draft_version=1)
    led.add("a3", "held", T0 + 30 * H, "marketing_led", reason="ticket open")
    led.add("a3", "reviewed", T0 + 50 * H, "marketing_led", by=owner, draft_version=1)
    led.add("a3", "closed", T0 + 50 * H, "marketing_led", reason="customer asked to wait", outcome="closed_by_owner")
    # a4 marketing_led under standing approval (no human review), sent, opted out.
    led.add("a4", "reviewed", T0, "marketing_led", by="rule:standing-approval", draft_version=1)
    led.add("a4", "approved", T0, "marketing_led", by="rule:standing-approval")
    led.add("a4", "sent", T0 + H, "marketing_led")
    led.add("a4", "follow_up_sent", T0 + D, "marketing_led")
    led.add("a4", "opted_out", T0 + 2 * D, "marketing_led")
    # a5 suppressed; a6 not ready, a week later; a7 account_led reviewed after 6 h and sent.
    led.add("a5", "suppressed", T0, "suppressed", reasons=["opted out in the CRM"])
    led.add("a6", "not_ready", T0 + 7 * D, "not_ready", missing=["inactivity_reason"])
    reviewed_then(led, "a7", "account_led", T0, 6)
    led.add("a7", "sent", T0 + 7 * H, "account_led")
    return led


async def written_main_ledger(pool, prefix: str) -> tuple[str, Scope]:
    owner = f"{prefix}-owner@test.dormant"
    await main_ledger(prefix, owner).write(pool)
    return owner, Scope(owner_email=owner)


def step_counts(section: dict) -> list[int]:
    return [s["accounts"] for s in section["steps"]]


ZERO_OTHER = dict.fromkeys(("suppressed", "not_ready", "held", "opted_out", "closed", "unresolved_issue_flagged",
                            "reminder_sent"), 0)


async def test_funnel_and_groups_match_hand_counts(pool, prefix):
    owner, scope = await written_main_ledger(pool, prefix)
    async with pool.acquire() as conn:
        total = await funnel(conn, scope)
        by_path = await funnel_groups(conn, scope, "path")
        by_week = await funnel_groups(conn, scope, "period", "week")
        later = await funnel(conn, Scope(since=T0 + 7 * D, owner_email=owner.upper()))
    assert [s["step"] for s in total["steps"]] == ["dormant", "reviewed", "approved", "sent", "follow_up_sent",
                                                   "responded", "reactivated"]
    # dormant a1-a7 = 7; reviewed a1 a2 a3 a4 a7 = 5; approved/sent a1 a2 a4 a7 = 4; follow-up a1 a2 a4 = 3;
    # responded and reactivated: a1 only.
    assert step_counts(total) == [7, 5, 4, 4, 3, 1, 1]
    # suppressed a5, not_ready a6, held a3, opted_out a4, closed a2 a3, flagged a3, reminded a3.
    assert total["other"] == {"suppressed": 1, "not_ready": 1, "held": 1, "opted_out": 1, "closed": 2,
                              "unresolved_issue_flagged": 1, "reminder_sent": 1}
    # account_led a1 a2 a7; marketing_led a3 a4; not_ready a6; suppressed a5 (groups sorted by name).
    assert [(g["group"], step_counts(g)) for g in by_path] == [
        ("account_led", [3, 3, 3, 3, 2, 1, 1]), ("marketing_led", [2, 2, 1, 1, 1, 0, 0]),
        ("not_ready", [1, 0, 0, 0, 0, 0, 0]), ("suppressed", [1, 0, 0, 0, 0, 0, 0])]
    assert by_path[0]["other"] == {**ZERO_OTHER, "closed": 1}
    assert by_path[1]["other"] == {**ZERO_OTHER, "held": 1, "opted_out": 1, "closed": 1,
                                   "unresolved_issue_flagged": 1, "reminder_sent": 1}
    # first events: six accounts in the week of Monday 4 March, a6 in the week of 11 March.
    assert [(g["group"], step_counts(g)[0]) for g in by_week] == [("2024-03-04", 6), ("2024-03-11", 1)]
    # from 11 March on only a6's not_ready event is left (the owner filter ignores case).
    assert step_counts(later) == [1, 0, 0, 0, 0, 0, 0] and later["other"] == {**ZERO_OTHER, "not_ready": 1}


async def test_closed_reasons_unresolved_issues_and_time_to_decision(pool, prefix):
    _, scope = await written_main_ledger(pool, prefix)
    async with pool.acquire() as conn:
        reasons = await closed_reasons(conn, scope)
        issues = await unresolved_issues(conn, scope)
        decision = await time_to_decision(conn, scope)
    # a2 closed for no response, a3 by the owner with their own words.
    assert reasons == {"customer asked to wait": 1, "no_response": 1}
    # a3 was flagged but never sent anything.
    assert issues == {"flagged_accounts": 1, "sent_promotional": 0}
    # first owner review after awaiting_review: a1 2 h, a7 6 h, a2 10 h, a3 30 h (its 50 h close is not the
    # first review; a4's rule approval is no decision). Median of 2, 6, 10, 30 = (6 + 10) / 2 = 8;
    # p90 (linear) sits at rank 0.9 * 3 = 2.7: 10 + 0.7 * (30 - 10) = 24.
    assert decision["decisions"] == 4
    assert decision["median_hours"] == pytest.approx(8.0) and decision["p90_hours"] == pytest.approx(24.0)


async def test_path_coverage_counts_each_missing_criterion(pool, prefix):
    owner, scope = await written_main_ledger(pool, prefix)
    await add_account(pool, f"{prefix}-a1", owner_email=owner)                       # complete
    await add_account(pool, f"{prefix}-a2", owner_email=owner, inactivity_reason=" ")  # blank reason
    await add_account(pool, f"{prefix}-a3", owner_email=owner, account_value=None)   # no value
    await add_account(pool, f"{prefix}-a4", owner_email=owner, consent_status="unknown")  # permission unknown
    await add_account(pool, f"{prefix}-a5", owner_email=None)                        # no owner in the CRM
    await add_account(pool, f"{prefix}-a6", owner_email=owner)                       # path was not_ready
    # a7 has no CRM row at all: it misses all five CRM criteria (its path, account_led, is fine).
    async with pool.acquire() as conn:
        coverage = await path_coverage(conn, scope)
    assert coverage["metric"] == "dormant_account_outreach_path_coverage"
    assert (coverage["numerator"], coverage["denominator"]) == (1, 7)  # only a1
    assert coverage["share"] == pytest.approx(1 / 7)
    assert coverage["missing"] == {"inactivity_reason": 2, "account_value": 2, "owner_email": 2,  # a2/a3/a5 + a7
                                   "risk_level": 1, "permission_check": 2, "approved_path": 1}  # a7; a4 + a7; a6


async def test_pilot_threshold_fails_below_and_passes_at_ninety_percent(pool, prefix):
    _, main_scope = await written_main_ledger(pool, prefix)
    owner = f"{prefix}-pilot@test.dormant"
    led = Ledger(f"{prefix}p", owner)
    for i in range(7):  # b0-b6 reviewed by the owner before any send
        reviewed_then(led, f"b{i}", "account_led", T0, 1)
    led.add("b7", "opted_out", T0, "suppressed")  # a suppressed path counts as suppressed
    led.add("b8", "suppressed", T0, "suppressed")
    # b9: promotional outreach went out before the owner's review (and despite an unresolved issue).
    led.add("b9", "unresolved_issue_flagged", T0, "marketing_led")
    led.add("b9", "sent", T0 + H, "marketing_led")
    led.add("b9", "reviewed", T0 + 2 * H, "marketing_led", by=owner)
    # c0: holdout control, withheld from review on purpose: left out of the pilot's counts.
    led.add("c0", "holdout_assigned", T0, "account_led", arm="control")
    led.add("c0", "closed", T0 + 30 * D, "account_led", reason="holdout_window_ended")
    await led.write(pool)
    async with pool.acquire() as conn:
        failing = await pilot_threshold(conn, main_scope)
        passing = await pilot_threshold(conn, Scope(owner_email=owner))
        issues = await unresolved_issues(conn, Scope(owner_email=owner))
    # main ledger: owner reviews a1 a2 a3 a7, suppressed a5, not_ready a6 = 6 of 7; a4 only had a rule.
    assert failing == {"numerator": 6, "denominator": 7, "share": pytest.approx(6 / 7), "threshold": 0.9,
                       "passed": False, "holdout_control_excluded": 0}
    # b0-b8 = 9 of 10 (c0 left out); b9 was sent before it was reviewed. 0.9 is enough.
    assert passing == {"numerator": 9, "denominator": 10, "share": pytest.approx(0.9), "threshold": 0.9,
                       "passed": True, "holdout_control_excluded": 1}
    assert issues == {"flagged_accounts": 1, "sent_promotional": 1}


async def holdout_ledger(pool, prefix: str) -> str:
    owner = f"{prefix}-holdout@test.dormant"
    led = Ledger(prefix, owner)
    for i in range(20):  # treatment: t0-t5 came back (6 of 20)
        led.add(f"t{i}", "holdout_assigned", T0, "account_led", arm="treatment")
        led.add(f"t{i}", "sent", T0 + H, "account_led")
        if i < 6:
            led.add(f"t{i}", "reactivated", T0 + 5 * D, "account_led")
    for i in range(10):  # control: c0-c1 came back (2 of 10), the rest closed when the window ended
        led.add(f"c{i}", "holdout_assigned", T0, "marketing_led", arm="control")
        led.add(f"c{i}", *(("reactivated", T0 + 9 * D) if i < 2 else ("closed", T0 + 30 * D)), "marketing_led",
                **({} if i < 2 else {"reason": "holdout_window_ended"}))
    led.add("c2", "reactivated", T0 + 60 * D, "account_led", episode="e2")  # a later episode does not count
    led.add("x0", "reactivated", T0, "monitor")  # never assigned: not in the experiment
    await led.write(pool)
    return owner


async def test_holdout_lift_matches_compute_lift(pool, prefix):
    owner = await holdout_ledger(pool, prefix)
    async with pool.acquire() as conn:
        lift = await holdout_lift(conn, Scope(owner_email=owner))
        report = await full_report(conn, Scope(owner_email=owner))
    # treatment 6/20 = 0.30, control 2/10 = 0.20, difference 0.10; the interval is Newcombe's (compute_lift).
    assert (lift.treatment_reactivated, lift.treatment_n, lift.control_reactivated, lift.control_n) == (6, 20, 2, 10)
    assert lift.treatment_rate == pytest.approx(0.3) and lift.control_rate == pytest.approx(0.2)
    assert lift.difference == pytest.approx(0.1)
    assert lift == compute_lift(6, 20, 2, 10)
    assert (lift.ci_low, lift.ci_high) == pytest.approx((-0.2462, 0.3617), abs=1e-4) and not lift.significant
    assert report["holdout"]["summary"].startswith("Difference +10.0 pts (95% CI -24.6 pts to +36.2 pts)")
    assert report["closed_reasons"] == {"holdout_window_ended": 8}  # c2-c9
    text = render_text(report)
    assert "treatment 30.0% (6/20) vs control 20.0% (2/10)" in text and "pilot threshold: FAIL" in text


async def owners_with_ledgers(pool, prefix: str) -> dict:
    """The main ledger for `owner`, one account for `other`, and tokens for both and an admin."""
    owner, _ = await written_main_ledger(pool, prefix)
    other = f"{prefix}-other@test.dormant"
    theirs = Ledger(f"{prefix}x", other)
    theirs.add("z1", "awaiting_review", T0, "account_led")
    await theirs.write(pool)
    async with pool.acquire() as conn:
        return {"owner": await add_owner(conn, owner), "other": await add_owner(conn, other),
                "admin": await add_owner(conn, f"{prefix}-admin@test.dormant", admin=True),
                "other_event": theirs.rows[0][0], "owner_events": {r[0] for r in main_ledger(prefix, owner).rows}}


def parse_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_events_csv_streams_only_the_callers_events(pool, settings, prefix):
    tokens = await owners_with_ledgers(pool, prefix)
    window = {"since": "2024-03-01", "until": "2024-04-01"}
    async with api_client(settings) as http:
        mine = await http.get("/v1/reports/events.csv", headers=bearer(tokens["owner"]))
        everyone = await http.get("/v1/reports/events.csv", params=window, headers=bearer(tokens["admin"]))
        unauthenticated = await http.get("/v1/reports/events.csv")
    assert mine.status_code == 200 and mine.headers["content-type"].startswith("text/csv")
    assert mine.text.splitlines()[0] == CSV_HEADER
    rows = parse_csv(mine.text)
    # a1 8 + a2 6 + a3 7 + a4 5 + a5 1 + a6 1 + a7 4 = 32 events, none of the other owner's.
    assert len(rows) == 32 and {r["event_id"] for r in rows} == tokens["owner_events"]
    assert tokens["other_event"] not in mine.text
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    a5 = next(r for r in rows if r["type"] == "suppressed")
    assert a5["detail"] == '{"reasons":["opted out in the CRM"]}' and json.loads(a5["detail"])["reasons"]
    admin_ids = {r["event_id"] for r in parse_csv(everyone.text)}
    assert tokens["owner_events"] <= admin_ids and tokens["other_event"] in admin_ids
    assert unauthenticated.status_code == 401


async def test_report_api_scopes_to_the_owner_and_validates_dates(pool, settings, prefix):
    tokens = await owners_with_ledgers(pool, prefix)
    async with api_client(settings) as http:
        mine = (await http.get("/v1/reports/funnel", params={"by": "path"}, headers=bearer(tokens["owner"]))).json()
        theirs = (await http.get("/v1/reports/funnel", headers=bearer(tokens["other"]))).json()
        march = (await http.get("/v1/reports/funnel", params={"since": "2024-03-01", "until": "2024-04-01"},
                                headers=bearer(tokens["admin"]))).json()
        bad_since = await http.get("/v1/reports/funnel", params={"since": "last tuesday"},
                                   headers=bearer(tokens["owner"]))
        backwards = await http.get("/v1/reports/funnel", params={"since": "2024-03-02", "until": "2024-03-01"},
                                   headers=bearer(tokens["owner"]))
        bad_by = await http.get("/v1/reports/funnel", params={"by": "colour"}, headers=bearer(tokens["owner"]))
        chart = await http.get("/v1/reports/funnel.svg", headers=bearer(tokens["owner"]))
        lift = await http.get("/v1/reports/lift.svg", headers=bearer(tokens["owner"]))
    assert step_counts(mine["funnel"]) == [7, 5, 4, 4, 3, 1, 1]  # as in the funnel test
    assert [g["group"] for g in mine["groups"]] == ["account_led", "marketing_led", "not_ready", "suppressed"]
    assert mine["accounts_by_event"]["sent"] == 4 and mine["drafting"]["prompt_tokens"] == 100
    assert mine["pilot_threshold"]["passed"] is False and mine["path_coverage"]["denominator"] == 7
    assert mine["time_to_decision"]["decisions"] == 4 and mine["closed_reasons"]["no_response"] == 1
    assert mine["holdout"]["treatment_n"] == 0 and "no treatment or control" in mine["holdout"]["summary"]
    assert mine["filters"] == {"since": None, "until": None, "owner_email": f"{prefix}-owner@test.dormant",
                               "by": "path", "period": None}
    assert step_counts(theirs["funnel"])[0] == 1 and theirs["groups"] is None  # only z1
    assert step_counts(march["funnel"])[0] >= 8  # the admin sees both owners (and other tests' March data)
    assert bad_since.status_code == 422 and bad_since.json()["detail"][0]["field"] == "query.since"
    assert backwards.status_code == 200 and step_counts(backwards.json()["funnel"])[0] == 0  # an empty window
    assert bad_by.status_code == 422 and bad_by.json()["detail"][0]["field"] == "query.by"
    assert chart.headers["content-type"].startswith("image/svg+xml") and 'data-count="7"' in chart.text
    assert lift.headers["content-type"].startswith("image/svg+xml") and "<svg" in lift.text


async def test_cli_report_prints_the_sections_and_writes_files(pool, settings, prefix, tmp_path, capsys):
    import asyncio

    from dormant.cli import build_parser

    owner, _ = await written_main_ledger(pool, prefix)
    chart, lift, events = tmp_path / "funnel.svg", tmp_path / "lift.svg", tmp_path / "events.csv"
    args = build_parser().parse_args(["report", "--owner", owner, "--by", "path", "--chart", str(chart),
                                      "--lift-chart", str(lift), "--csv", str(events)])
    assert await asyncio.to_thread(args.func, args, settings) == 0
    out = capsys.readouterr().out
    assert "pilot threshold: FAIL 6/7" in out and "path coverage" in out and "closed reasons:" in out
    assert "time to decision: 4 decisions, median 8.0 h, p90 24.0 h" in out and "account_led" in out
    assert 'data-count="7"' in chart.read_text() and "<svg" in lift.read_text()
    assert len(events.read_text().splitlines()) == 33  # header + the 32 events
