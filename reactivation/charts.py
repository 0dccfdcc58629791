"""Small SVG charts as plain strings, so reports can show a funnel and a lift without a plotting library.

Pure string building keeps the domain core free of I/O and heavy dependencies, and makes output
byte-for-byte reproducible (easy to test, diff and cache). Every piece of text is XML-escaped,
because labels come from user data and may contain <, & or quotes. Each chart carries a <title>
so screen readers announce what it shows. Bars have class="bar" so tests and CSS can find them.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from reactivation.lift import LiftResult, lift_summary

WIDTH = 640
_MARGIN = 16
_TITLE_H = 40
_ROW_H = 44
_BAR_H = 16
_BAR_MAX = 440  # leaves room right of the longest bar for "1,234,567 (100.0%)"


def _num(value: float) -> str:
    return f"{value:.2f}"


def _text(x: float, y: float, content: str, extra: str = "", size: int = 13) -> str:
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-family="sans-serif" font-size="{size}"{extra}>'
            f"{escape(content)}</text>")


def _document(title: str, height: int, body: list[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img">')
    heading = _text(_MARGIN, 26, title, ' font-weight="bold"', size=16)
    return "\n".join([head, f"<title>{escape(title)}</title>", heading, *body, "</svg>"])


def funnel_svg(steps: list[tuple[str, int]], title: str = "Funnel") -> str:
    """One horizontal bar per step; the largest count spans the full bar width.

    Each row shows the label, the count and, in brackets, the percentage of the first step (the
    funnel's entry), so drop-off reads directly. All-zero or empty input still yields a valid document.
    """
    for label, count in steps:
        if count < 0:
            raise ValueError(f"count for step {label!r} must not be negative, got {count}")
    largest = max((count for _, count in steps), default=0)
    first = steps[0][1] if steps else 0
    body: list[str] = []
    if not steps:
        body.append(_text(_MARGIN, _TITLE_H + 20, "No steps to show"))
    for i, (label, count) in enumerate(steps):
        top = _TITLE_H + i * _ROW_H
        width = _BAR_MAX * count / largest if largest else 0.0
        share = f"{100 * count / first:.1f}%" if first else "n/a"
        body.append(_text(_MARGIN, top + 12, label))
        body.append(f'<rect class="bar" x="{_MARGIN}" y="{top + 18}" width="{_num(width)}" '
                    f'height="{_BAR_H}" fill="#4c78a8" data-count="{count}"/>')
        body.append(_text(_MARGIN + _BAR_MAX + 8, top + 31, f"{count:,} ({share})"))
    height = _TITLE_H + max(len(steps), 1) * _ROW_H + _MARGIN
    return _document(title, height, body)


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f}%"


def lift_svg(lift: LiftResult, title: str = "Reactivation: treatment vs control") -> str:
    """Treatment and control reactivation rates as bars, plus the difference with its interval.

    Bars are scaled to the larger rate (small rates would be invisible on a 0-100% axis); the
    printed percentages carry the absolute values. Without both rates the chart shows the note.
    """
    if lift.treatment_rate is None or lift.control_rate is None or lift.difference is None:
        body = [_text(_MARGIN, _TITLE_H + 20, lift_summary(lift), ' class="note"')]
        return _document(title, _TITLE_H + 40, body)
    largest = max(lift.treatment_rate, lift.control_rate)
    body = []
    arms = [("Treatment", lift.treatment_rate, lift.treatment_reactivated, lift.treatment_n, "#4c78a8"),
            ("Control", lift.control_rate, lift.control_reactivated, lift.control_n, "#9d9d9d")]
    for i, (name, rate, hits, n, colour) in enumerate(arms):
        top = _TITLE_H + i * _ROW_H
        width = _BAR_MAX * rate / largest if largest else 0.0
        body.append(_text(_MARGIN, top + 12, f"{name} (n={n:,})"))
        body.append(f'<rect class="bar" x="{_MARGIN}" y="{top + 18}" width="{_num(width)}" '
                    f'height="{_BAR_H}" fill="{colour}"/>')
        body.append(_text(_MARGIN + _BAR_MAX + 8, top + 31, f"{_pct(rate)} ({hits:,}/{n:,})"))
    summary_y = _TITLE_H + len(arms) * _ROW_H + 14
    body.append(_text(_MARGIN, summary_y, lift_summary(lift), ' class="difference"'))
    return _document(title, summary_y + _MARGIN, body)
