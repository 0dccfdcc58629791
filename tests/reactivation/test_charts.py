"""SVG charts: well-formed, escaped, accessible, with bars proportional to the data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from reactivation.charts import funnel_svg, lift_svg
from reactivation.lift import compute_lift

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    assert svg.startswith("<svg")
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    root = ET.fromstring(svg)
    assert root.find("svg:title", NS) is not None
    return root


def bar_widths(root: ET.Element) -> list[float]:
    return [float(r.get("width")) for r in root.iterfind(".//svg:rect[@class='bar']", NS)]


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{{{NS['svg']}}}text")]


def test_funnel_bar_widths_are_proportional_to_counts():
    root = parse(funnel_svg([("reviewed", 100), ("approved", 50), ("sent", 25)]))
    widths = bar_widths(root)
    assert len(widths) == 3 and widths[0] > 0
    assert [w / widths[0] for w in widths] == pytest.approx([1, 0.5, 0.25])
    assert root.get("width") == "640"


def test_funnel_shows_labels_counts_and_share_of_first_step():
    all_text = " ".join(texts(parse(funnel_svg([("reviewed", 1200), ("sent", 300)], title="Q3"))))
    assert "reviewed" in all_text and "1,200" in all_text and "100.0%" in all_text
    assert "sent" in all_text and "300" in all_text and "25.0%" in all_text


def test_funnel_largest_step_gets_full_width_even_if_not_first():
    widths = bar_widths(parse(funnel_svg([("a", 10), ("b", 40), ("c", 20)])))
    assert max(widths) == widths[1]
    assert [w / widths[1] for w in widths] == pytest.approx([0.25, 1, 0.5])


def test_funnel_height_grows_with_rows():
    short = parse(funnel_svg([("a", 1)]))
    tall = parse(funnel_svg([("a", 1), ("b", 1), ("c", 1)]))
    assert float(tall.get("height")) > float(short.get("height"))


def test_labels_and_title_are_escaped():
    label = 'Tom & Jerry <"VIP"> \'quoted\''
    svg = funnel_svg([(label, 5)], title="A<B & C")
    assert "<VIP" not in svg and "Tom & Jerry" not in svg
    root = parse(svg)
    assert label in texts(root)
    assert root.find("svg:title", NS).text == "A<B & C"


def test_all_zero_funnel_is_valid_with_zero_width_bars():
    root = parse(funnel_svg([("reviewed", 0), ("sent", 0)]))
    assert bar_widths(root) == [0, 0]


def test_empty_funnel_is_valid():
    root = parse(funnel_svg([]))
    assert bar_widths(root) == []


def test_negative_count_is_refused():
    with pytest.raises(ValueError, match="negative"):
        funnel_svg([("sent", -1)])


def test_lift_chart_shows_rates_difference_and_interval():
    lift = compute_lift(56, 70, 48, 80)  # 80% vs 60%, +20.0 pts, 95% CI +5.2 to +33.4 pts
    root = parse(lift_svg(lift))
    widths = bar_widths(root)
    assert len(widths) == 2 and widths[1] / widths[0] == pytest.approx(0.6 / 0.8)
    all_text = " ".join(texts(root))
    assert "80.0%" in all_text and "60.0%" in all_text
    assert "+20.0 pts" in all_text and "95% CI +5.2 pts to +33.4 pts" in all_text
    assert "significant" in all_text and "not significant" not in all_text


def test_lift_chart_with_zero_rates_is_valid():
    root = parse(lift_svg(compute_lift(0, 10, 0, 10)))
    assert bar_widths(root) == [0, 0]
    assert "not significant" in " ".join(texts(root))


def test_lift_chart_without_a_control_shows_the_note():
    lift = compute_lift(3, 10, 0, 0)
    root = parse(lift_svg(lift, title="Lift <pilot>"))
    assert bar_widths(root) == []
    assert lift.note in texts(root)
    assert root.find("svg:title", NS).text == "Lift <pilot>"
