"""The full report (db.reports.full_report) as plain text for `dormant report`.

Kept beside the queries rather than in the CLI so the text stays in step with the report's shape and
can be tested without a terminal; it is pure formatting, no I/O.
"""

from __future__ import annotations

from reactivation.charts import funnel_svg, lift_svg
from reactivation.lift import LiftResult


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} h"


def _funnel_rows(funnel: dict) -> list[str]:
    first = funnel["steps"][0]["accounts"]
    lines = [f"{'step':<28}{'accounts':>9}  of dormant"]
    lines += [f"{s['step']:<28}{s['accounts']:>9}  {_pct(s['accounts'] / first if first else None)}"
              for s in funnel["steps"]]
    lines += [f"{kind:<28}{n:>9}" for kind, n in funnel["other"].items()]
    return lines


def _groups(report: dict) -> list[str]:
    if not report["groups"]:
        return []
    steps = [s["step"] for s in report["funnel"]["steps"]]
    label = report["filters"]["by"] + (f" ({report['filters']['period']})" if report["filters"]["period"] else "")
    widths = [len(s) + 2 for s in steps]
    lines = ["", f"by {label}", f"{'group':<32}" + "".join(f"{s:>{w}}" for s, w in zip(steps, widths))]
    for g in report["groups"]:
        lines.append(f"{g['group'][:31]:<32}" + "".join(f"{s['accounts']:>{w}}" for s, w in zip(g["steps"], widths)))
    return lines


def _measures(report: dict) -> list[str]:
    ttd, cov, pilot = report["time_to_decision"], report["path_coverage"], report["pilot_threshold"]
    issues = report["unresolved_issues"]
    reasons = ", ".join(f"{reason} {n}" for reason, n in report["closed_reasons"].items()) or "none"
    missing = ", ".join(f"{c} {n}" for c, n in cov["missing"].items())
    return [
        "", f"closed reasons: {reasons}",
        f"time to decision: {ttd['decisions']} decisions, median {_hours(ttd['median_hours'])}, "
        f"p90 {_hours(ttd['p90_hours'])}",
        f"unresolved issues: {issues['flagged_accounts']} flagged account(s), {issues['sent_promotional']} of them "
        "sent promotional outreach (should be 0)",
        f"path coverage ({cov['metric']}): {cov['numerator']}/{cov['denominator']} = {_pct(cov['share'])}; "
        f"missing: {missing}",
        f"pilot threshold: {'PASS' if pilot['passed'] else 'FAIL'} {pilot['numerator']}/{pilot['denominator']} = "
        f"{_pct(pilot['share'])} reviewed or suppressed before outreach (needs {_pct(pilot['threshold'])}; "
        f"{pilot['holdout_control_excluded']} holdout control accounts left out)",
    ]


def _holdout(lift: dict) -> list[str]:
    return ["", f"holdout: treatment {_pct(lift['treatment_rate'])} ({lift['treatment_reactivated']}/"
                f"{lift['treatment_n']}) vs control {_pct(lift['control_rate'])} ({lift['control_reactivated']}/"
                f"{lift['control_n']})", f"  {lift['summary']}"]


def render_text(report: dict) -> str:
    """Funnel, groups, measures, holdout and drafting cost, in that order."""
    cost = report["drafting"]
    answered = report["replies"]
    rate = f"{answered['reply_rate']:.1%}" if answered["reply_rate"] is not None else "n/a"
    by_class = ", ".join(f"{k} {v}" for k, v in answered["by_class"].items()) or "none"
    lines = [*_funnel_rows(report["funnel"]), *_groups(report), *_measures(report), *_holdout(report["holdout"]),
             "", f"drafts: {cost['drafts']} ({cost['template_drafts']} template), tokens in/out "
                 f"{cost['prompt_tokens']}/{cost['completion_tokens']}, estimated cost "
                 f"${cost['estimated_cost_usd']:.4f}",
             f"replies: {answered['accounts_replied']} of {answered['accounts_sent']} accounts sent to ({rate}); "
             f"inbound by class: {by_class}"]
    return "\n".join(lines)


def report_charts(report: dict) -> tuple[str, str]:
    """(funnel SVG, lift SVG) drawn from a full report, so a page or file shows exactly its numbers."""
    steps = [(s["step"], s["accounts"]) for s in report["funnel"]["steps"]]
    lift = LiftResult.model_validate({k: v for k, v in report["holdout"].items() if k != "summary"})
    return funnel_svg(steps, title="Reactivation funnel"), lift_svg(lift)
