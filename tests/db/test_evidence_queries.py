"""The one-statement evidence reader returns exactly the pack the earlier eleven-statement
reader returned.

The send guard compares the fingerprint taken at approval with one recomputed at send time, so any
difference between the two readers (a float, a time zone, an order, an excerpt boundary, None vs "") would
stop real sends. tests/support/evidence_oracle.py is the earlier reader, verbatim; every test here reads
the same data with both and compares the packs (pydantic equality, the JSON, and the JSON of the fields
that were set).

Each test works in a transaction it rolls back: offers for every segment and crm_sources are shared by all
accounts, so changing them must not leak into other tests. The comparison runs with both plan cache modes
forced: the order of tied rows (two tickets opened at the same microsecond) is whatever the plan yields,
for the earlier reader too (its statements switch to a generic plan after five runs on a connection), and
the rewrite keeps each bounded list's query as it was so that the same plan yields the same order.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from db.evidence_queries import (
    EXCERPT_CHARS,
    MAX_ACTIVITY,
    MAX_NOTES,
    MAX_ORDERS,
    MAX_TICKETS,
    WHITESPACE,
    AccountNotFound,
    _excerpt_sql,
    excerpt,
    load_evidence,
)
from reactivation.evidence_model import EvidencePack
from tests.support import evidence_oracle as oracle
from tests.support.crm_fixtures import ACCOUNT_DEFAULTS

T0 = datetime(2026, 3, 10, 23, 30, 15, 123456, tzinfo=UTC)
AS_OF = datetime(2026, 3, 10, 18, 45, 0, 654321, tzinfo=timezone(timedelta(hours=-8)))  # 11 March in UTC
PLAN_MODES = ("force_custom_plan", "force_generic_plan")

# Text that tests the excerpt's edges: Python's whitespace (leading, trailing, inside), combining marks,
# CJK, emoji outside the BMP, and the ellipsis itself.
LETTERS = [*"aZ0-é漢字😀…ßİ", "\u0301", "\U0001f3fd", "\u200d"]  # one code point each: a combining acute,
# a skin-tone modifier and a zero-width joiner among them
SPACES = list(WHITESPACE)


def sized(n: int, lead: str = "", tail: str = "", fill: str = "ab漢😀e\u0301 ") -> str:
    """`lead` + a text of exactly n code points + `tail`."""
    body = (fill * (n // len(fill) + 1))[:n]
    return lead + body + tail


def edge_texts() -> list[str]:
    texts = ["", " ", "\u3000\t\n", "short", "  padded\xa0", "\x85\x1cX\x1f\u2028"]
    for limit in (200, 300, EXCERPT_CHARS, EXCERPT_CHARS + 1):
        for n in (limit - 2, limit - 1, limit, limit + 1, limit + 2):
            texts += [sized(n), sized(n, "  \u3000", "\u2029 "), "x" * n, sized(n, fill="漢字😀")]
        texts += ["y" * (limit - 2) + "  " + "z" * 5,       # whitespace where the cut falls
                  "y" * (limit - 1) + " " * 700 + "tail",    # a long run of whitespace at the cut
                  " " * 2000 + "w" * (limit + 1),            # leading whitespace longer than the excerpt
                  "q" * (limit - 1) + "e\u0301" * 3]         # a combining mark split by the cut
    return texts


async def same_pack(conn, account_id: str, as_of: datetime = AS_OF) -> EvidencePack:
    """Read with both readers under both plan modes; they must agree exactly. Returns the pack."""
    for mode in PLAN_MODES:
        await conn.execute(f"SET LOCAL plan_cache_mode = {mode}")
        expected = await oracle.load_evidence(conn, account_id, as_of)
        got = await load_evidence(conn, account_id, as_of)
        assert got == expected
        assert got.model_dump_json() == expected.model_dump_json()
        assert got.model_dump_json(exclude_unset=True) == expected.model_dump_json(exclude_unset=True)
    return got


@pytest_asyncio.fixture
async def conn(pool):
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            yield conn
        finally:
            await tx.rollback()


async def add_account(conn, account_id: str, **overrides) -> None:
    """tests/support/crm_fixtures.py's account, on this test's connection (inside its transaction)."""
    row = {**ACCOUNT_DEFAULTS, "last_activity_at": T0 - timedelta(days=120), **overrides, "account_id": account_id}
    await conn.execute(f"INSERT INTO accounts ({', '.join(row)}) VALUES ({', '.join(f'${i + 1}' for i in range(len(row)))})",
                       *row.values())


async def add_rows(conn, table: str, rows: list[dict], shuffle: bool = False) -> None:
    """Insert `rows`; shuffled, their physical order is unlike their ids' and their timestamps' order."""
    if shuffle:
        rows = random.Random(7).sample(rows, len(rows))
    if rows:
        columns = list(rows[0])
        await conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})",
            [tuple(r[c] for c in columns) for r in rows])


async def test_an_account_with_no_history_and_nulls_wherever_allowed(conn, prefix):
    account_id = f"{prefix}-bare"
    await add_account(conn, account_id, segment=f"{prefix}-none", owner_email=None, account_value=None,
                      last_activity_at=None, contact_email=None, contact_phone=None, timezone=None,
                      contact_name="", inactivity_reason="")
    pack = await same_pack(conn, account_id)
    assert (pack.tickets, pack.orders, pack.notes, pack.recent_activity) == ([], [], [], [])
    assert pack.order_summary.total_amount == 0.0 and pack.ticket_summary.first_at is None
    assert pack.account.account_value is None and pack.contact_suppressed == "" and not pack.opted_out_event


async def test_more_rows_than_each_bound_with_ties_mixed_statuses_and_amounts(conn, prefix):
    account_id = f"{prefix}-busy"
    await add_account(conn, account_id, account_value=Decimal("12345678.91"))
    statuses = ["open", "Resolved", "SOLVED", "closed", "Closed", "pending", "OPEN", "resolved "]
    tickets = [dict(ticket_id=f"{prefix}-T{i:02d}", account_id=account_id,
                    opened_at=T0 - timedelta(days=i // 4, microseconds=i % 2),  # groups of tied timestamps
                    closed_at=None if i % 3 else T0 - timedelta(hours=i, microseconds=7),
                    status=statuses[i % len(statuses)], severity=["", "high", "low"][i % 3],
                    category="billing" if i % 2 else "", subject=f"Subject {i}", body=f" body {i} ")
               for i in range(3 * MAX_TICKETS)]
    await add_rows(conn, "tickets", tickets, shuffle=True)
    amounts = ["0", "0.1", "12345678.905", "480", "-12.34", "0.01", "99999999999.99"]
    await add_rows(conn, "orders", [dict(order_id=f"{prefix}-O{i:02d}", account_id=account_id,
                                         at=T0 - timedelta(days=i // 3, microseconds=i % 2),
                                         amount=Decimal(amounts[i % len(amounts)]), description=f"Order {i}")
                                    for i in range(2 * MAX_ORDERS + 3)], shuffle=True)
    await add_rows(conn, "notes", [dict(account_id=account_id, at=T0 - timedelta(days=i // 3),
                                        author_email=["", f"am{i}@x.dormant", f"Zed{i}@x.dormant"][i % 3],
                                        body=f"Note {i}: call back")
                                   for i in range(2 * MAX_NOTES + 2)], shuffle=True)
    await add_rows(conn, "activities", [dict(account_id=account_id, at=T0 - timedelta(days=i // 2, microseconds=3),
                                             type=f"type{i % 5}-{i}", detail="d" * (190 + i * 3) + "  ")
                                        for i in range(2 * MAX_ACTIVITY + 1)], shuffle=True)
    for _ in range(3):  # past the five executions after which cached statements may go generic
        pack = await same_pack(conn, account_id)
    assert (len(pack.tickets), len(pack.orders), len(pack.notes), len(pack.recent_activity)) == \
        (MAX_TICKETS, MAX_ORDERS, MAX_NOTES, MAX_ACTIVITY)
    assert pack.ticket_summary.total == 3 * MAX_TICKETS and pack.order_summary.total == 2 * MAX_ORDERS + 3


async def test_a_long_history_with_ties_after_analyze(conn, prefix):
    """Thousands of rows: the sorts become bounded (top-N) heapsorts, and with fresh statistics the planner
    may pick other scans; ties still come out as the earlier reader's did."""
    account_id = f"{prefix}-long"
    await add_account(conn, account_id)
    await conn.execute(
        """INSERT INTO tickets (ticket_id, account_id, opened_at, closed_at, status, severity, subject, body)
           SELECT $1 || '-T' || g, $1, $2::timestamptz - ((g * 7919) % 50) * interval '1 hour',
                  CASE WHEN g % 10 = 0 THEN NULL ELSE $2 END, (ARRAY['open','Closed','SOLVED','new'])[1 + g % 4],
                  (ARRAY['','high'])[1 + g % 2], 'Ticket ' || g, repeat('body ', g % 200)
           FROM generate_series(1, 3000) AS g""", account_id, T0)
    await conn.execute(
        """INSERT INTO orders (order_id, account_id, at, amount, description)
           SELECT $1 || '-O' || g, $1, $2::timestamptz - ((g * 31) % 20) * interval '1 day', (g % 1000) / 100.0, 'Order ' || g
           FROM generate_series(1, 1000) AS g""", account_id, T0)
    await conn.execute(
        """INSERT INTO notes (account_id, at, author_email, body)
           SELECT $1, $2::timestamptz - ((g * 13) % 30) * interval '1 day', 'am' || g || '@x.dormant', repeat('n', g)
           FROM generate_series(1, 300) AS g""", account_id, T0)
    await conn.execute("ANALYZE tickets, orders, notes")
    pack = await same_pack(conn, account_id)
    assert pack.ticket_summary.total == 3000 and len(pack.tickets) == MAX_TICKETS


async def test_excerpt_boundaries_and_multibyte_text(conn, prefix):
    for i, text in enumerate(edge_texts()):
        account_id = f"{prefix}-x{i}"
        await add_account(conn, account_id, segment=f"{prefix}-seg{i}")
        await add_rows(conn, "tickets", [dict(ticket_id=f"{account_id}-T", account_id=account_id, opened_at=T0,
                                              closed_at=None, status="open", subject=text, body=text)])
        await add_rows(conn, "orders", [dict(order_id=f"{account_id}-O", account_id=account_id, at=T0,
                                             amount=Decimal("1.50"), description=text)])
        await add_rows(conn, "notes", [dict(account_id=account_id, at=T0, author_email="", body=text)])
        await add_rows(conn, "activities", [dict(account_id=account_id, at=T0, type="call", detail=text)])
        await add_rows(conn, "offers", [dict(offer_id=f"{account_id}-F", name="Offer", description=text,
                                             segment=f"{prefix}-seg{i}")])
        pack = await same_pack(conn, account_id)
        offer = next(o for o in pack.offers if o.offer_id == f"{account_id}-F")
        assert pack.tickets[0].excerpt == excerpt(text) and offer.description == excerpt(text, 300)


@pytest.mark.parametrize("limit", [1, 2, 200, 300, EXCERPT_CHARS])
async def test_the_sql_excerpt_is_excerpt(pool, limit):
    async with pool.acquire() as conn:
        for text in [*edge_texts(), None]:
            got = await conn.fetchval(f"SELECT {_excerpt_sql('$1::text', limit, '$2::text')}", text, WHITESPACE)
            assert got == excerpt(text, limit), (limit, text)


@given(st.integers(min_value=0, max_value=EXCERPT_CHARS + 8).flatmap(
    lambda n: st.text(st.sampled_from(LETTERS + SPACES), min_size=max(0, n - 8), max_size=n + 8)),
    st.sampled_from([200, 300, EXCERPT_CHARS]))
@hypothesis_settings(max_examples=300, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
async def test_the_sql_excerpt_is_excerpt_for_any_text(pool, text, limit):
    got = await pool.fetchval(f"SELECT {_excerpt_sql('$1::text', limit, '$2::text')}", text, WHITESPACE)
    assert got == excerpt(text, limit)


def test_whitespace_is_everything_str_strip_strips():
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == WHITESPACE


async def test_offers_by_segment_and_validity_on_the_as_of_date(conn, prefix):
    account_id, segment = f"{prefix}-offers", f"{prefix}-clinics"
    await add_account(conn, account_id, segment=segment)
    local_day = AS_OF.date()  # 10 March at -08:00 while it is already 11 March in UTC
    offers = []
    for seg_name, seg in (("all", ""), ("mine", segment), ("other", f"{prefix}-other")):
        for valid_name, valid in (("open", None), ("past", local_day - timedelta(days=1)), ("today", local_day),
                                  ("future", local_day + timedelta(days=30)), ("utc-today", date(2026, 3, 11))):
            offers.append(dict(offer_id=f"{prefix}-{seg_name}-{valid_name}", name=f"{seg_name} {valid_name}",
                               description=f" {seg_name} ", kind=["", "review"][len(offers) % 2],
                               promotional=bool(len(offers) % 2), segment=seg, valid_until=valid))
    await add_rows(conn, "offers", offers)
    pack = await same_pack(conn, account_id)
    mine = {o.offer_id for o in pack.offers if o.offer_id.startswith(prefix)}
    assert mine == {f"{prefix}-{s}-{v}" for s in ("all", "mine") for v in ("open", "today", "future", "utc-today")}
    await same_pack(conn, account_id, as_of=AS_OF.astimezone(UTC))  # the UTC date: yesterday's offers lapse
    await same_pack(conn, account_id, as_of=datetime(2026, 3, 11, 0, 0, tzinfo=timezone(timedelta(hours=14))))


async def test_an_opt_out_counts_only_after_the_accounts_last_import(conn, prefix):
    updated = T0 - timedelta(days=2, microseconds=1)
    for name, at, type_, expected in (("before", updated - timedelta(microseconds=1), "opt_out", False),
                                      ("same", updated, "opt_out", False),
                                      ("after", updated + timedelta(microseconds=1), "opt_out", True),
                                      ("other", updated + timedelta(days=1), "reply", False)):
        account_id = f"{prefix}-{name}"
        await add_account(conn, account_id, updated_at=updated)
        await add_rows(conn, "crm_events", [dict(account_id=account_id, type=type_, at=at)])
        assert (await same_pack(conn, account_id)).opted_out_event is expected, name


@pytest.mark.parametrize(("channel", "contact", "stored", "expected"), [
    ("email", "jordan.{p}@example.com", "jordan.{p}@example.com", "bounce: 550 no such user"),
    ("email", "\t Jordan.{p}@Example.COM \x1c", "jordan.{p}@example.com", "bounce: 550 no such user"),
    ("email", "jordan.{p}@example.com", "jordan.{p}@example.org", ""),
    ("email", None, "", ""),
    ("email", "", "", ""),
    ("email", " \t ", "", "bounce: 550 no such user"),  # strips to "", which normalise() does look up
    ("email", " \u3000", "", "bounce: 550 no such user"),
    ("email", "J\u00d6RG.{p}@Example.com", "j\u00f6rg.{p}@example.com", "bounce: 550 no such user"),
    ("email", "\u0130nci.{p}@example.com", "i\u0307nci.{p}@example.com", "bounce: 550 no such user"),  # Unicode's lower()
    ("email", "\u0130nci.{p}@example.com", "inci.{p}@example.com", ""),
    ("sms", "+1-555-{p}", "+1-555-{p}", "bounce: 550 no such user"),
    ("sms", " +1-555-{p}\n", "+1-555-{p}", "bounce: 550 no such user"),
    ("sms", "+1-555-{p}9", "+1-555-{p}", ""),
    ("call", "jordan.{p}@example.com", "jordan.{p}@example.com", ""),
])
async def test_the_preferred_channels_address_suppression(conn, prefix, channel, contact, stored, expected):
    account_id = f"{prefix}-supp"
    column = "contact_phone" if channel == "sms" else "contact_email"
    await add_account(conn, account_id, preferred_channel=channel,
                      **{column: None if contact is None else contact.format(p=prefix)})
    await conn.execute("INSERT INTO suppressed_addresses (address, channel, reason, detail) VALUES ($1, $2, "
                       "'bounce', '550 no such user') ON CONFLICT (address) DO UPDATE SET reason = 'bounce', "
                       "detail = '550 no such user'", stored.format(p=prefix), channel)
    assert (await same_pack(conn, account_id)).contact_suppressed == expected


@pytest.mark.parametrize(("reason", "detail"), [("bounce", ""), ("unsubscribe", "via link"), ("refused", ": ")])
async def test_how_a_suppression_reads(conn, prefix, reason, detail):
    account_id = f"{prefix}-why"
    await add_account(conn, account_id, contact_email=f"{account_id}@example.com")
    await conn.execute("INSERT INTO suppressed_addresses (address, channel, reason, detail) VALUES ($1, 'email', $2, $3)",
                       f"{account_id}@example.com", reason, detail)
    assert (await same_pack(conn, account_id)).contact_suppressed


@pytest.mark.parametrize("missing", [(), ("tickets",), ("orders",), ("tickets", "orders")])
async def test_connected_histories(conn, prefix, missing):
    account_id = f"{prefix}-src"
    await add_account(conn, account_id)
    await conn.execute("INSERT INTO crm_sources (source, rows) VALUES ('tickets', 0), ('orders', 0), ('notes', 0) "
                       "ON CONFLICT DO NOTHING")
    await conn.execute("DELETE FROM crm_sources WHERE source = ANY($1::text[])", list(missing))
    pack = await same_pack(conn, account_id)
    assert (pack.support_history_connected, pack.order_history_connected) == \
        ("tickets" not in missing, "orders" not in missing)


async def test_the_sessions_time_zone_changes_nothing(conn, prefix):
    account_id = f"{prefix}-tz"
    await add_account(conn, account_id, last_activity_at=T0 - timedelta(microseconds=999_999))
    await add_rows(conn, "activities", [dict(account_id=account_id, at=T0, type="visit", detail="")])
    await add_rows(conn, "notes", [dict(account_id=account_id, at=T0, author_email="a@x", body="hi")])
    for zone in ("UTC", "Pacific/Kiritimati", "America/St_Johns"):
        await conn.execute(f"SET LOCAL TIME ZONE '{zone}'")
        pack = await same_pack(conn, account_id)
        assert pack.recent_activity == ["2026-03-10 visit:"]
        assert pack.notes[0].source == f"notes:{account_id}@2026-03-10T23:30:15.123456+00:00"


async def test_an_unknown_account_is_not_found(conn, prefix):
    with pytest.raises(AccountNotFound):
        await load_evidence(conn, f"{prefix}-nobody", AS_OF)
    with pytest.raises(oracle.AccountNotFound):
        await oracle.load_evidence(conn, f"{prefix}-nobody", AS_OF)


moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1),
                       timezones=st.just(UTC))
texts = st.integers(min_value=0, max_value=EXCERPT_CHARS + 4).flatmap(
    lambda n: st.text(st.sampled_from(LETTERS + SPACES), min_size=max(0, n - 4), max_size=n + 4))


@given(tickets=st.lists(st.tuples(moments, st.none() | moments, st.sampled_from(["open", "Closed", "SOLVED", "x"]),
                                  texts), max_size=13),
       orders=st.lists(st.tuples(moments, st.decimals(min_value=-10**6, max_value=10**11, places=2,
                                                      allow_nan=False), texts), max_size=12),
       notes=st.lists(st.tuples(moments, st.sampled_from(["", "a@x", "B@x"]), texts), max_size=7),
       value=st.none() | st.decimals(min_value=0, max_value=10**11, places=2, allow_nan=False))
@hypothesis_settings(max_examples=40, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
async def test_any_history_reads_the_same(pool, tickets, orders, notes, value):
    async with pool.acquire() as conn:
        tx = conn.transaction()  # rolled back: nothing of an example outlives it
        await tx.start()
        try:
            account_id = "hyp-evidence"
            await add_account(conn, account_id, account_value=value)
            await add_rows(conn, "tickets", [dict(ticket_id=f"{account_id}-T{i}", account_id=account_id,
                                                  opened_at=o, closed_at=c, status=s, subject=t, body=t)
                                             for i, (o, c, s, t) in enumerate(tickets)])
            await add_rows(conn, "orders", [dict(order_id=f"{account_id}-O{i}", account_id=account_id, at=a,
                                                 amount=m, description=t) for i, (a, m, t) in enumerate(orders)])
            await add_rows(conn, "notes", list({(a, e): dict(account_id=account_id, at=a, author_email=e, body=t)
                                                for a, e, t in notes}.values()))
            await same_pack(conn, account_id)
        finally:
            await tx.rollback()
