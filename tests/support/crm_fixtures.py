"""Test data written straight into the CRM store (the importer has its own tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

ACCOUNT_DEFAULTS = dict(
    name="Harbor Dental Group", segment="clinics", tier="self_serve", owner_email="owner@test.dormant",
    account_value=12000, currency="USD", preferred_channel="email", contact_name="Jordan Reyes",
    contact_email="jordan@example.com", contact_phone="+1-555-0100", timezone="UTC",
    consent_status="granted", inactivity_reason="Paused bookings after a staffing change", risk_level="low",
    relationship="neutral", fit="high",
)


async def add_account(pool: asyncpg.Pool, account_id: str, **overrides) -> dict:
    row = {**ACCOUNT_DEFAULTS, **overrides, "account_id": account_id}
    row.setdefault("last_activity_at", datetime.now(UTC) - timedelta(days=120))
    columns = list(row)
    async with pool.acquire() as conn:
        await conn.execute(
            f"INSERT INTO accounts ({', '.join(columns)}) VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})",
            *row.values(),
        )
        # Mark the histories as connected, so the readiness gate passes unless a test says otherwise.
        await conn.execute("""INSERT INTO crm_sources (source, rows) VALUES ('tickets', 0), ('orders', 0)
                              ON CONFLICT DO NOTHING""")
        await conn.execute("INSERT INTO orders (order_id, account_id, at, amount, description) VALUES "
                           "($1, $2, now() - interval '200 days', 480, 'Quarterly booking')",
                           f"{account_id}-o1", account_id)
    return row


async def add_ticket(pool: asyncpg.Pool, account_id: str, ticket_id: str, *, open_: bool = True,
                     subject: str = "Billing discrepancy on last invoice", closed_days_ago: int = 60) -> None:
    closed = None if open_ else datetime.now(UTC) - timedelta(days=closed_days_ago)
    async with pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO tickets (ticket_id, account_id, opened_at, closed_at, status, severity, category, subject, body)
               VALUES ($1, $2, now() - interval '100 days', $3, $4, 'high', 'billing', $5, 'Customer text')""",
            ticket_id, account_id, closed, "open" if open_ else "closed", subject,
        )
