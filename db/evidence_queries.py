"""Reads one account's evidence from the CRM store, bounded however long its history is, in one statement.

Counts and totals come from aggregate queries over the whole history; only the most relevant rows are
fetched (open tickets first, then the newest), and customer-written text is cut to an excerpt. That keeps
an EvidencePack a few kilobytes even for an account with 10,000 tickets and megabyte-long notes, far
below Temporal's 2 MB payload limit.

Why one statement: the pack is read three times per account on the hot path (gathering evidence, then the
send guard re-reads it at each send to recompute the approval's fingerprint), and the eleven round trips a
read took were a measurable part of the per-account cost. Every part is now a sub-select of one SELECT on
the account row (bench/evidence_pack.py measures it).

Why the pack must not change with this rewrite: the fingerprint taken at approval is compared with the one
at send time, so the sub-selects keep the earlier per-part queries exactly (tests/support/evidence_oracle.py
is that code, and tests/db/test_evidence_queries.py compares the two):
- each bounded list is the earlier `SELECT ... ORDER BY ... LIMIT $n` verbatim (the offers' segment now
  comes from the account row), inside ARRAY(), which keeps the subquery's order. Rows tied on the ORDER BY
  come out in whatever order the plan yields, as they did before, so keeping the query keeps its plan;
- rows come back as PostgreSQL records (asyncpg decodes them to tuples), keeping timestamptz and numeric
  exactly; there is no JSON on the way;
- excerpt() is computed in SQL (`_excerpt_sql`) outside the ordered subquery, so a megabyte-long body is
  neither shipped nor cut for rows the LIMIT drops; it strips exactly Python's whitespace (WHITESPACE).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.suppression import describe, suppression_of
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

# What str.strip() strips: every character whose str.isspace() is true (none above U+3000; the tests check it).
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) \
    + "\u2028\u2029\u202f\u205f\u3000"
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _excerpt_sql(column: str, limit: int, whitespace: str = "$8") -> str:
    """excerpt(column, limit) as an SQL expression, `whitespace` being the parameter that holds WHITESPACE.

    Why in SQL: the full text of a ticket or an order never leaves the server. btrim/rtrim with WHITESPACE strip
    what str.strip/rstrip strip, and in a UTF-8 database length() and left() count code points as len() and
    slices do (combining marks and emoji included)."""
    text = f"btrim(coalesce({column}, ''), {whitespace})"
    return (f"CASE WHEN length({text}) <= {limit} THEN {text} "
            f"ELSE rtrim(left({text}, {limit - 1}), {whitespace}) || '…' END")


class AccountNotFound(LookupError):
    pass


# $1 account, $2..$5 the MAX_* bounds, $6 the notes' read bound, $7 as_of's date, $8 WHITESPACE.
# The suppression lookup normalises the preferred channel's address as db.suppression.normalise does for an
# ASCII address (strip, then ASCII lower-casing with translate(), whatever the database's locale). str.lower()
# follows Unicode and PostgreSQL's lower() the locale ('İ', 'ẞ'), so load_evidence looks a non-ASCII address
# up with suppression_of itself: a second statement, for those addresses only.
_EVIDENCE = f"""
SELECT a.*,
  EXISTS (SELECT 1 FROM crm_sources WHERE source = 'tickets') AS ev_tickets_connected,
  EXISTS (SELECT 1 FROM crm_sources WHERE source = 'orders') AS ev_orders_connected,
  ARRAY(SELECT ROW(t.ticket_id, t.opened_at, t.closed_at, t.status, t.severity, t.category,
                   {_excerpt_sql("t.subject", 200)}, {_excerpt_sql("t.body", EXCERPT_CHARS)})
        FROM (SELECT * FROM tickets WHERE account_id = $1
              ORDER BY (closed_at IS NULL AND lower(status) NOT IN ('closed','resolved','solved')) DESC,
                       opened_at DESC LIMIT $2) t) AS ev_tickets,
  (SELECT ROW(count(*),
              count(*) FILTER (WHERE closed_at IS NULL AND lower(status) NOT IN ('closed','resolved','solved')),
              min(opened_at), max(opened_at))
   FROM tickets WHERE account_id = $1) AS ev_ticket_stats,
  ARRAY(SELECT ROW(o.order_id, o.at, o.amount, {_excerpt_sql("o.description", 200)})
        FROM (SELECT * FROM orders WHERE account_id = $1 ORDER BY at DESC LIMIT $3) o) AS ev_orders,
  (SELECT ROW(count(*), coalesce(sum(amount), 0), min(at), max(at))
   FROM orders WHERE account_id = $1) AS ev_order_stats,
  ARRAY(SELECT ROW(n.at, n.author_email, {_excerpt_sql("n.body", EXCERPT_CHARS)})
        FROM (SELECT at, author_email, left(body, $6) AS body FROM notes WHERE account_id = $1
              ORDER BY at DESC LIMIT $4) n) AS ev_notes,
  ARRAY(SELECT ROW(v.at, v.type, v.detail)
        FROM (SELECT at, type, left(detail, 200) AS detail FROM activities WHERE account_id = $1
              ORDER BY at DESC LIMIT $5) v) AS ev_activities,
  ARRAY(SELECT ROW(f.offer_id, f.name, {_excerpt_sql("f.description", 300)}, f.kind, f.promotional, f.valid_until)
        FROM (SELECT * FROM offers WHERE (segment = '' OR segment = a.segment)
              AND (valid_until IS NULL OR valid_until >= $7::date) ORDER BY offer_id) f) AS ev_offers,
  EXISTS (SELECT 1 FROM crm_events WHERE account_id = $1 AND type = 'opt_out' AND at > a.updated_at)
    AS ev_opted_out,
  (SELECT ROW(s.reason, s.detail) FROM suppressed_addresses s
   WHERE s.address = translate(btrim(NULLIF(CASE a.preferred_channel WHEN 'email' THEN a.contact_email
                                                                     WHEN 'sms' THEN a.contact_phone END, ''), $8),
                               '{_UPPER}', '{_LOWER}')) AS ev_suppression
FROM accounts a WHERE a.account_id = $1
"""


async def load_evidence(conn: asyncpg.Connection, account_id: str, as_of: datetime) -> EvidencePack:
    row = await conn.fetchrow(_EVIDENCE, account_id, MAX_TICKETS, MAX_ORDERS, MAX_NOTES, MAX_ACTIVITY,
                              EXCERPT_CHARS + 1, as_of.date(), WHITESPACE)
    if row is None:
        raise AccountNotFound(f"account {account_id!r} is not in the CRM store")
    facts = {key: value for key, value in row.items() if not key.startswith("ev_") and key != "updated_at"}
    if facts["account_value"] is not None:
        facts["account_value"] = float(facts["account_value"])
    account = AccountFacts(**facts)

    channel_address = {"email": account.contact_email, "sms": account.contact_phone}.get(account.preferred_channel)
    if channel_address and not channel_address.isascii():
        suppressed = await suppression_of(conn, channel_address)  # see _EVIDENCE
    else:
        suppressed = describe(*row["ev_suppression"]) if row["ev_suppression"] is not None else None
    ticket_total, ticket_open, ticket_first, ticket_last = row["ev_ticket_stats"]
    order_total, order_amount, order_first, order_last = row["ev_order_stats"]

    return EvidencePack(
        account=account,
        account_source=f"accounts:{account_id}",
        as_of=as_of,
        support_history_connected=row["ev_tickets_connected"],
        order_history_connected=row["ev_orders_connected"],
        tickets=[
            TicketFact(source=f"tickets:{ticket_id}", opened_at=opened_at, closed_at=closed_at, status=status,
                       severity=severity, category=category, subject=subject, excerpt=body)
            for ticket_id, opened_at, closed_at, status, severity, category, subject, body in row["ev_tickets"]
        ],
        ticket_summary=HistorySummary(total=ticket_total, open_count=ticket_open,
                                      first_at=ticket_first, last_at=ticket_last),
        orders=[OrderFact(source=f"orders:{order_id}", at=at, amount=float(amount), description=description)
                for order_id, at, amount, description in row["ev_orders"]],
        order_summary=HistorySummary(total=order_total, total_amount=float(order_amount),
                                     first_at=order_first, last_at=order_last),
        recent_activity=[f"{at.date()} {type_}: {detail}".strip() for at, type_, detail in row["ev_activities"]],
        notes=[NoteFact(source=f"notes:{account_id}@{at.isoformat()}", at=at, author_email=author_email,
                        excerpt=body) for at, author_email, body in row["ev_notes"]],
        offers=[OfferFact(source=f"offers:{offer_id}", offer_id=offer_id, name=name, description=description,
                          kind=kind, promotional=promotional, valid_until=valid_until)
                for offer_id, name, description, kind, promotional, valid_until in row["ev_offers"]],
        opted_out_event=bool(row["ev_opted_out"]),
        contact_suppressed=suppressed or "",
    )
