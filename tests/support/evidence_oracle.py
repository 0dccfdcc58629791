"""The oracle: db/evidence_queries.py's load_evidence as it was before it became one statement (eleven
statements, with the suppression lookup), verbatim.

Why keep it: the fingerprint taken at approval is compared with the one at send time, so the one-statement
reader must return exactly the pack this reader returned; tests/db/test_evidence_queries.py
compares the two on the same data. Below this docstring the code is the earlier module, unchanged.

Original docstring: Reads one account's evidence from the CRM store, bounded however long its history is.

Counts and totals come from aggregate queries over the whole history; only the most relevant rows are
fetched (open tickets first, then the newest), and customer-written text is cut to an excerpt. That keeps
an EvidencePack a few kilobytes even for an account with 10,000 tickets and megabyte-long notes, far
below Temporal's 2 MB payload limit.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.suppression import suppression_of
from reactivation.evidence_model import (
    AccountFacts,
    EvidencePack,
    HistorySummary,
    NoteFact,
    OfferFact,
    OrderFact,
    TicketFact,
)

MAX_TICKETS = 10
MAX_ORDERS = 10
MAX_NOTES = 5
MAX_ACTIVITY = 5
EXCERPT_CHARS = 600


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class AccountNotFound(LookupError):
    pass


async def load_evidence(conn: asyncpg.Connection, account_id: str, as_of: datetime) -> EvidencePack:
    row = await conn.fetchrow("SELECT * FROM accounts WHERE account_id = $1", account_id)
    if row is None:
        raise AccountNotFound(f"account {account_id!r} is not in the CRM store")
    facts = dict(row)
    facts.pop("updated_at", None)
    if facts["account_value"] is not None:
        facts["account_value"] = float(facts["account_value"])
    account = AccountFacts(**facts)

    sources = {r["source"] for r in await conn.fetch("SELECT source FROM crm_sources")}
    ticket_rows = await conn.fetch(
        """SELECT * FROM tickets WHERE account_id = $1
           ORDER BY (closed_at IS NULL AND lower(status) NOT IN ('closed','resolved','solved')) DESC,
                    opened_at DESC LIMIT $2""",
        account_id, MAX_TICKETS,
    )
    ticket_stats = await conn.fetchrow(
        """SELECT count(*) AS total,
                  count(*) FILTER (WHERE closed_at IS NULL AND lower(status) NOT IN ('closed','resolved','solved')) AS open,
                  min(opened_at) AS first_at, max(opened_at) AS last_at
           FROM tickets WHERE account_id = $1""",
        account_id,
    )
    order_rows = await conn.fetch(
        "SELECT * FROM orders WHERE account_id = $1 ORDER BY at DESC LIMIT $2", account_id, MAX_ORDERS
    )
    order_stats = await conn.fetchrow(
        """SELECT count(*) AS total, coalesce(sum(amount), 0) AS amount, min(at) AS first_at, max(at) AS last_at
           FROM orders WHERE account_id = $1""",
        account_id,
    )
    note_rows = await conn.fetch(
        "SELECT at, author_email, left(body, $3) AS body FROM notes WHERE account_id = $1 ORDER BY at DESC LIMIT $2",
        account_id, MAX_NOTES, EXCERPT_CHARS + 1,
    )
    activity_rows = await conn.fetch(
        "SELECT at, type, left(detail, 200) AS detail FROM activities WHERE account_id = $1 ORDER BY at DESC LIMIT $2",
        account_id, MAX_ACTIVITY,
    )
    offer_rows = await conn.fetch(
        """SELECT * FROM offers WHERE (segment = '' OR segment = $1)
           AND (valid_until IS NULL OR valid_until >= $2::date) ORDER BY offer_id""",
        account.segment, as_of.date(),
    )
    opted_out = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM crm_events WHERE account_id = $1 AND type = 'opt_out' AND at > $2)",
        account_id, row["updated_at"],
    )
    channel_address = {"email": account.contact_email, "sms": account.contact_phone}.get(account.preferred_channel)
    suppressed = await suppression_of(conn, channel_address)

    return EvidencePack(
        account=account,
        account_source=f"accounts:{account_id}",
        as_of=as_of,
        support_history_connected="tickets" in sources,
        order_history_connected="orders" in sources,
        tickets=[
            TicketFact(source=f"tickets:{t['ticket_id']}", opened_at=t["opened_at"], closed_at=t["closed_at"],
                       status=t["status"], severity=t["severity"], category=t["category"],
                       subject=excerpt(t["subject"], 200), excerpt=excerpt(t["body"]))
            for t in ticket_rows
        ],
        ticket_summary=HistorySummary(total=ticket_stats["total"], open_count=ticket_stats["open"],
                                      first_at=ticket_stats["first_at"], last_at=ticket_stats["last_at"]),
        orders=[OrderFact(source=f"orders:{o['order_id']}", at=o["at"], amount=float(o["amount"]),
                          description=excerpt(o["description"], 200)) for o in order_rows],
        order_summary=HistorySummary(total=order_stats["total"], total_amount=float(order_stats["amount"]),
                                     first_at=order_stats["first_at"], last_at=order_stats["last_at"]),
        recent_activity=[f"{a['at'].date()} {a['type']}: {a['detail']}".strip() for a in activity_rows],
        notes=[NoteFact(source=f"notes:{account_id}@{n['at'].isoformat()}", at=n["at"],
                        author_email=n["author_email"], excerpt=excerpt(n["body"])) for n in note_rows],
        offers=[OfferFact(source=f"offers:{o['offer_id']}", offer_id=o["offer_id"], name=o["name"],
                          description=excerpt(o["description"], 300), kind=o["kind"], promotional=o["promotional"],
                          valid_until=o["valid_until"]) for o in offer_rows],
        opted_out_event=bool(opted_out),
        contact_suppressed=suppressed or "",
    )
