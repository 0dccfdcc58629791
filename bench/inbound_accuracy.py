"""`python -m bench.inbound_accuracy`: how often the inbound classifier is right on the labelled corpus.

Reads tests/reactivation/inbound_corpus (the .eml files and labels.json) directly, classifies each message with the
date its label gives as today, and counts it right only when the class, the return date and the owner
flag all match the label. Prints per-class and overall accuracy and every hard case with PASS/FAIL; the
target is every hard case right and 95% overall. Writes bench/results/inbound_accuracy.json. Pure: no
database, no Temporal, nothing to start.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reactivation.inbound_mail import Verdict, classify, parse_message
from reactivation.vocabulary import InboundClass

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "reactivation" / "inbound_corpus"
RESULTS = Path(__file__).resolve().parent / "results" / "inbound_accuracy.json"
TARGET_OVERALL = 0.95


@dataclass(frozen=True)
class Case:
    """One labelled message and what the classifier said about it."""

    name: str
    expected: InboundClass
    expected_return: date | None
    expected_owner: bool
    hard: bool
    verdict: Verdict

    @property
    def right(self) -> bool:
        return (self.verdict.kind == self.expected and self.verdict.return_on == self.expected_return
                and self.verdict.needs_owner == self.expected_owner)


def load_cases(corpus: Path = CORPUS) -> list[Case]:
    """Every labelled message classified with its label's `today`."""
    labels = json.loads((corpus / "labels.json").read_text(encoding="utf-8"))
    cases = []
    for name, label in sorted(labels.items()):
        verdict = classify(parse_message((corpus / name).read_bytes()), date.fromisoformat(label["today"]))
        cases.append(Case(name=name, expected=InboundClass(label["kind"]),
                          expected_return=date.fromisoformat(label["return_on"]) if label["return_on"] else None,
                          expected_owner=bool(label["needs_owner"]), hard=bool(label["hard"]), verdict=verdict))
    return cases


def summarise(cases: list[Case]) -> dict:
    """Per-class and overall accuracy, the hard cases, the misses, and whether the target is met."""
    total, right = Counter(c.expected for c in cases), Counter(c.expected for c in cases if c.right)
    overall = sum(right.values()) / len(cases) if cases else 0.0
    hard = [{"file": c.name, "expected": c.expected.value, "got": c.verdict.kind.value, "pass": c.right}
            for c in cases if c.hard]
    return {
        "messages": len(cases),
        "overall_accuracy": round(overall, 4),
        "per_class": {kind.value: {"messages": total[kind], "right": right[kind],
                                   "accuracy": round(right[kind] / total[kind], 4) if total[kind] else None}
                      for kind in InboundClass},
        "hard_cases": hard,
        "misses": [{"file": c.name, "expected": c.expected.value, "got": c.verdict.kind.value,
                    "expected_return_on": c.expected_return.isoformat() if c.expected_return else None,
                    "got_return_on": c.verdict.return_on.isoformat() if c.verdict.return_on else None,
                    "expected_needs_owner": c.expected_owner, "got_needs_owner": c.verdict.needs_owner,
                    "reason": c.verdict.reason} for c in cases if not c.right],
        "target": f"every hard case right and >= {TARGET_OVERALL:.0%} overall",
        "target_met": all(h["pass"] for h in hard) and overall >= TARGET_OVERALL,
    }


def render(summary: dict) -> str:
    lines = [f"Inbound classifier on {summary['messages']} labelled messages", "", (f"{'class':<14}{'right':>8}"
             f"{'of':>5}{'accuracy':>11}")]
    for kind, row in summary["per_class"].items():
        accuracy = f"{row['accuracy']:.1%}" if row["accuracy"] is not None else "-"
        lines.append(f"{kind:<14}{row['right']:>8}{row['messages']:>5}{accuracy:>11}")
    lines += [f"{'overall':<14}{'':>13}{summary['overall_accuracy']:>11.1%}", "", "Hard cases:"]
    lines += [f"  {'PASS' if h['pass'] else 'FAIL'}  {h['file']:<36} expected {h['expected']:<12} got {h['got']}"
              for h in summary["hard_cases"]]
    if summary["misses"]:
        lines += ["", "Misses:"] + [f"  {m['file']}: expected {m['expected']} (back {m['expected_return_on']}, "
                                    f"owner {m['expected_needs_owner']}), got {m['got']} (back {m['got_return_on']}"
                                    f", owner {m['got_needs_owner']}): {m['reason']}" for m in summary["misses"]]
    lines += ["", f"Target: {summary['target']} -> {'MET' if summary['target_met'] else 'NOT MET'}"]
    return "\n".join(lines)


def main() -> int:
    summary = summarise(load_cases())
    print(render(summary))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {RESULTS.relative_to(ROOT)}")
    return 0 if summary["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
