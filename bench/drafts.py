"""`python -m bench.drafts`: how specific the outreach drafts are, per drafter, on a fixed set of accounts.

The accounts are the demo CRM data (dormant/demo_data, read straight from the CSVs into EvidencePacks the
way db/evidence_queries.py builds them: newest orders and notes first, offers for the segment and still
valid) plus hard cases built in code: a high-value account with an expansion note, an issue resolved last
month, a seasonal buyer, a competitor note, SMS length, and names in other scripts. Each account that
gets a draft (account-led, marketing-led, held) is assessed with the policy and drafted by the template
and, when OPENAI_API_KEY and OPENAI_BASE_URL are set, by the LLM through DraftingActivities (any
OpenAI-compatible server, a local one included).

Per drafter it reports the share of drafts with no guardrail violation, the stock-phrase rate, the share
citing at least one evidence source, body length per channel, and tokens and cost (LLM only). The
template's target: 100% clean, 0% stock phrases, 100% citing. Writes bench/results/drafts.json. No
database and no Temporal server.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import mean

from bench.draft_cases import AS_OF, Case, all_cases, demo_cases, hard_cases  # noqa: F401 - re-exported for tests
from reactivation.assessment_model import Assessment
from reactivation.evidence_model import EvidencePack
from reactivation.guardrails import check_draft
from reactivation.policy import assess
from reactivation.review_model import OutreachDraft
from reactivation.specificity import evidence_sources, stock_phrases
from reactivation.templates import draft_outreach
from reactivation.vocabulary import Path as AccountPath

RESULTS = Path(__file__).resolve().parent / "results" / "drafts.json"
DRAFTED = (AccountPath.account_led, AccountPath.marketing_led, AccountPath.hold)
TARGET = {"no_violation": 1.0, "stock_phrase_rate": 0.0, "citing": 1.0}



@dataclass
class DraftRow:
    case: str
    path: str
    channel: str
    violations: list[str]
    stock_phrases: list[str]
    cites_evidence: bool
    body_chars: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


@dataclass
class DrafterReport:
    drafter: str
    rows: list[DraftRow] = field(default_factory=list)

    def share(self, test: Callable[[DraftRow], bool]) -> float:
        return sum(test(r) for r in self.rows) / len(self.rows) if self.rows else 0.0

    def summary(self) -> dict:
        lengths = {}
        for channel in ("email", "sms", "call"):
            sizes = [r.body_chars for r in self.rows if r.channel == channel]
            if sizes:
                lengths[channel] = {"n": len(sizes), "mean_chars": round(mean(sizes)), "max_chars": max(sizes)}
        return {"drafter": self.drafter, "drafts": len(self.rows),
                "no_violation": self.share(lambda r: not r.violations),
                "stock_phrase_rate": self.share(lambda r: bool(r.stock_phrases)),
                "citing": self.share(lambda r: r.cites_evidence),
                "length": lengths,
                "prompt_tokens": sum(r.prompt_tokens for r in self.rows),
                "completion_tokens": sum(r.completion_tokens for r in self.rows),
                "cost_usd": round(sum(r.cost_usd for r in self.rows), 6)}

    def passes(self) -> bool:
        s = self.summary()
        return (s["no_violation"] >= TARGET["no_violation"] and s["stock_phrase_rate"] <= TARGET["stock_phrase_rate"]
                and s["citing"] >= TARGET["citing"])


def row_for(case: str, pack: EvidencePack, assessment: Assessment, draft: OutreachDraft, **usage) -> DraftRow:
    """One draft judged by the same guardrail the product runs, plus the figures the report counts."""
    text = f"{draft.subject}\n{draft.body}\n{draft.follow_up_body}"
    evidence = evidence_sources(pack)
    return DraftRow(case=case, path=assessment.path.value, channel=draft.channel,
                    violations=check_draft(draft, pack, assessment), stock_phrases=stock_phrases(text),
                    cites_evidence=any(s in evidence for c in draft.claims for s in c.sources),
                    body_chars=len(draft.body), **usage)


def drafted(cases: list[Case]) -> list[tuple[str, EvidencePack, Assessment]]:
    """The cases that get a draft, with their assessment (paths without a draft are not drafted)."""
    out = []
    for name, pack in cases:
        assessment = assess(pack, pack.as_of)
        if assessment.path in DRAFTED:
            out.append((name, pack, assessment))
    return out


def evaluate_template(cases: list[Case] | None = None) -> DrafterReport:
    """The template drafter on every case: the function CI runs (tests/reactivation/test_draft_eval.py)."""
    report = DrafterReport("template")
    for name, pack, assessment in drafted(cases if cases is not None else all_cases()):
        report.rows.append(row_for(name, pack, assessment, draft_outreach(pack, assessment)))
    return report


async def evaluate_llm(cases: list[Case]) -> DrafterReport | None:
    """The LLM drafter through DraftingActivities (feedback redraft included); None without OPENAI_*."""
    if not (os.environ.get("OPENAI_API_KEY") and os.environ.get("OPENAI_BASE_URL")):
        return None
    from temporalio.testing import ActivityEnvironment

    from activities.drafting import DraftingActivities
    from config.settings import load_settings
    from reactivation.review_model import DraftRequest

    settings = load_settings()
    activities = DraftingActivities(settings)
    report = DrafterReport(f"llm ({settings.openai_model})")
    for name, pack, assessment in drafted(cases):
        request = DraftRequest(pack=pack, assessment=assessment, version=1)
        try:
            result = await ActivityEnvironment().run(activities.prepare_draft, request)
        except Exception as err:
            report.rows.append(DraftRow(name, assessment.path.value, pack.account.preferred_channel,
                                        [f"LLM call failed: {str(err)[:200]}"], [], False, 0))
            continue
        report.rows.append(row_for(name, pack, assessment, result.draft, prompt_tokens=result.prompt_tokens,
                                   completion_tokens=result.completion_tokens,
                                   cost_usd=result.estimated_cost_usd))
    return report


# ---------------------------------------------------------------- the report


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


HEADER = ("| drafter | drafts | no violation | stock phrases | citing evidence | email chars mean/max "
          "| SMS chars mean/max | tokens in/out | cost USD | target |")


def table(reports: list[DrafterReport]) -> str:
    lines = [HEADER, "|---|---|---|---|---|---|---|---|---|---|"]
    for report in reports:
        s = report.summary()
        length = {c: f"{v['mean_chars']}/{v['max_chars']}" for c, v in s["length"].items()}
        tokens = f"{s['prompt_tokens']}/{s['completion_tokens']}" if s["prompt_tokens"] else "-"
        cost = f"{s['cost_usd']:.4f}" if s["prompt_tokens"] else "-"
        verdict = ("PASS" if report.passes() else "FAIL") if report.drafter == "template" else "(reported)"
        lines.append(f"| {report.drafter} | {s['drafts']} | {_pct(s['no_violation'])} | "
                     f"{_pct(s['stock_phrase_rate'])} | {_pct(s['citing'])} | {length.get('email', '-')} | "
                     f"{length.get('sms', '-')} | {tokens} | {cost} | {verdict} |")
    return "\n".join(lines)


def main() -> int:
    cases = all_cases()
    reports = [evaluate_template(cases)]
    llm = asyncio.run(evaluate_llm(cases))
    if llm is None:
        print("LLM: skipped (set OPENAI_API_KEY and OPENAI_BASE_URL to evaluate it too)")
    else:
        reports.append(llm)
    print(table(reports))
    for report in reports:
        for row in report.rows:
            if row.violations or row.stock_phrases or not row.cites_evidence:
                print(f"  {report.drafter} / {row.case}: " + "; ".join(row.violations or row.stock_phrases))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"as_of": AS_OF.isoformat(), "target": TARGET,
                                   "drafters": [{**r.summary(), "rows": [asdict(x) for x in r.rows]}
                                                for r in reports]}, indent=1, ensure_ascii=False))
    print(f"wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return 0 if reports[0].passes() else 1


if __name__ == "__main__":
    sys.exit(main())
