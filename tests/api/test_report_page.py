"""The report on the review page: the signed-in owner's numbers and charts, inline and script-free, and
their events as CSV under the same cookie session."""

from __future__ import annotations

from db.owners import add_owner
from tests.api.test_review_page import sign_in
from tests.db.test_reports import CSV_HEADER, written_main_ledger
from tests.support.api import api_client


async def test_report_page_shows_the_owners_report(pool, settings, prefix):
    owner, _ = await written_main_ledger(pool, prefix)
    async with pool.acquire() as conn:
        token = await add_owner(conn, owner)
    async with api_client(settings) as http:
        assert (await http.get("/review/report")).headers["location"] == "/review"
        assert (await http.get("/review/report/events.csv")).headers["location"] == "/review"
        await sign_in(http, token)
        page = await http.get("/review/report", params={"by": "path"})
        bad = await http.get("/review/report", params={"since": "soon"})
        backwards = await http.get("/review/report", params={"since": "2024-03-02", "until": "2024-03-01"})
        events = await http.get("/review/report/events.csv")
    assert page.status_code == 200 and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "<script" not in html and html.count("<svg") == 2 and 'data-count="7"' in html
    assert 'id="pilot-verdict">FAIL<' in html and "6 of 7 dormant accounts (85.7%)" in html  # as in test_reports
    assert "0 of 7 dormant accounts (0.0%) had every field" in html
    assert "no_response" in html and "customer asked to wait" in html and "median 8.0 h" in html
    assert "marketing_led" in html and 'href="/review/report/events.csv?since=&amp;until="' in html
    assert "accounts sent to replied" in html and "Inbound by class" in html
    assert bad.status_code == 422 and "since: expected a date" in bad.text
    assert backwards.status_code == 200 and "0 of 0 dormant accounts" in backwards.text  # an empty window
    assert events.status_code == 200 and events.headers["content-type"].startswith("text/csv")
    assert events.text.splitlines()[0] == CSV_HEADER and len(events.text.splitlines()) == 33
