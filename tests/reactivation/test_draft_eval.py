"""The draft evaluation (bench/drafts.py) on the template drafter, in CI: every draft of the demo accounts
and the hard cases passes the guardrails, none uses a stock phrase, every one cites evidence. Pure and
fast: the demo CSVs are read directly, no database or LLM."""

from __future__ import annotations

from bench.drafts import evaluate_template, table


def test_the_template_keeps_its_specificity_figures():
    report = evaluate_template()
    summary = report.summary()
    failing = [(r.case, r.violations or r.stock_phrases) for r in report.rows
               if r.violations or r.stock_phrases or not r.cites_evidence]
    assert failing == []
    assert summary["drafts"] >= 50  # the demo accounts that get a draft plus the hard cases
    assert (summary["no_violation"], summary["stock_phrase_rate"], summary["citing"]) == (1.0, 0.0, 1.0)
    assert {"email", "sms"} <= set(summary["length"]) and summary["length"]["sms"]["max_chars"] <= 320
    assert report.passes() and "| template |" in table([report]) and "PASS" in table([report])


def test_the_hard_cases_are_all_drafted():
    cases = {r.case for r in evaluate_template().rows}
    for name in ("high value, expansion note", "issue resolved last month", "seasonal buyer", "competitor note",
                 "SMS, long evidence", "non-English: Zoë Müller-Łukasiewicz", "non-English: CJK"):
        assert f"hard: {name}" in cases
    assert "demo ACC-1001" in cases
