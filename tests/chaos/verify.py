"""What the chaos run must have preserved, checked against the real servers and the real SMTP sink."""

from __future__ import annotations

from collections import Counter

from temporalio.client import WorkflowExecutionStatus

from tests.chaos.scenario import Chaos, expected_outcome
from workflows.dormant_account_models import DormantAccountResult, workflow_id_for

ONCE_PER_EPISODE = ("reviewed", "approved", "sent", "follow_up_sent", "responded", "closed", "suppressed",
                    "not_ready", "awaiting_review")


async def verify(chaos: Chaos) -> tuple[list[str], dict]:
    """Return (problems, summary counts). No problems means nothing was lost or duplicated."""
    problems: list[str] = []
    outcomes = await _outcomes(chaos, problems)
    messages = await _messages(chaos, problems)
    duplicates = await chaos.pool.fetch(
        """SELECT account_id, episode, type, count(*) AS n FROM measurement_events
           WHERE type = ANY($1) GROUP BY 1, 2, 3 HAVING count(*) > 1""", list(ONCE_PER_EPISODE))
    problems += [f"{r['account_id']}: {r['n']} '{r['type']}' events in one episode" for r in duplicates]
    approved = {r["account_id"] for r in await chaos.pool.fetch(
        "SELECT DISTINCT account_id FROM measurement_events WHERE type = 'approved'")}
    problems += [f"{a}: an accepted approval left no 'approved' event" for a in sorted(chaos.accepted - approved)]
    drafts = await chaos.pool.fetchrow(
        """SELECT count(*) AS drafts, count(*) FILTER (WHERE detail->>'by' LIKE 'template%') AS template
           FROM measurement_events WHERE type = 'draft_generated'""")
    summary = {**chaos.counts, "accounts": len(chaos.ids()), "outcomes": dict(outcomes), **messages,
               "ledger_events": await chaos.pool.fetchval("SELECT count(*) FROM measurement_events"),
               "duplicate_ledger_events": len(duplicates), "lost_decisions": len(chaos.accepted - approved),
               "llm_requests": chaos.llm.requests, "llm_failures": chaos.llm.failures,
               "drafts": drafts["drafts"], "template_drafts_after_llm_failure": drafts["template"]}
    return problems, summary


async def _outcomes(chaos: Chaos, problems: list[str]) -> Counter:
    outcomes: Counter = Counter()
    for index, account_id in enumerate(chaos.ids()):
        handle = chaos.client.get_workflow_handle(workflow_id_for(account_id), result_type=DormantAccountResult)
        description = await handle.describe()
        if description.status != WorkflowExecutionStatus.COMPLETED:
            status = description.status.name if description.status else "unknown"
            problems.append(f"{account_id}: workflow is {status}, not completed")
            continue
        result = await handle.result()
        outcome = result.outcome.value if result.outcome else "none"
        outcomes[outcome] += 1
        if outcome != expected_outcome(index):
            problems.append(f"{account_id}: expected {expected_outcome(index)}, got {outcome}")
    return outcomes


async def _messages(chaos: Chaos, problems: list[str]) -> dict:
    """One first email per approved customer, at most one follow-up, in the same thread."""
    rows = await chaos.pool.fetch("SELECT account_id, kind, status, error FROM outbox")
    status = {(r["account_id"], r["kind"]): r["status"] for r in rows}
    reasons = Counter((r["error"] or "").split(":")[0] for r in rows if r["status"] == "uncertain")
    sink = chaos.smtp.sink
    uncertain = sum(1 for s in status.values() if s == "uncertain")
    for index, account_id in enumerate(chaos.ids()):
        rcpt, fate = f"{account_id}@chaos.example", expected_outcome(index)
        firsts, replies = sink.first.get(rcpt, []), sink.replies.get(rcpt, [])
        if fate in ("suppressed", "not_ready"):
            if firsts or replies:
                problems.append(f"{account_id}: {fate} but received {len(firsts) + len(replies)} message(s)")
            continue
        if len(firsts) > 1:
            problems.append(f"{account_id}: {len(firsts)} first emails")
        if not firsts and status.get((account_id, "first")) != "uncertain":
            problems.append(f"{account_id}: no first email and no 'uncertain' record explaining why")
        if len(replies) > 1:
            problems.append(f"{account_id}: {len(replies)} follow-ups")
        if replies and firsts and replies[0] != firsts[0]:
            problems.append(f"{account_id}: the follow-up is not in the first email's thread")
        if fate == "no_response" and not replies and status.get((account_id, "follow_up")) != "uncertain":
            problems.append(f"{account_id}: no follow-up although the customer never answered")
    return {"first_emails": sum(len(v) for v in sink.first.values()),
            "follow_ups": sum(len(v) for v in sink.replies.values()), "uncertain_sends": uncertain,
            "uncertain_reasons": dict(reasons)}
