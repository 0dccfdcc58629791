"""The README's lifecycle table is the machine's own output, so the documentation cannot drift."""

from __future__ import annotations

from pathlib import Path

from reactivation.lifecycle_table import markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_holds_the_generated_lifecycle_table():
    text = README.read_text()
    start, end = "<!-- lifecycle-table:start -->\n", "\n<!-- lifecycle-table:end -->"
    assert start in text and end in text
    table = text[text.index(start) + len(start):text.index(end)]
    assert table == markdown_table(), "regenerate it: python -m reactivation.lifecycle_table"


def test_every_phase_reacts_to_an_opt_out_before_anything_is_sent_by_ending_or_waiting_for_delivery():
    rows = [line for line in markdown_table().splitlines()[2:]]
    for row in rows:
        opt_out = row.split("opt_out ")[1].split(";")[0]
        assert opt_out.startswith(("ends `opted_out`", "applied once the delivery answers")), row
