"""Reactivation lift: treatment rate minus control rate, with a 95% confidence interval.

A bare difference of two rates invites over-reading ("+4 points!") when the groups are small, and
a holdout is small by design. So every lift comes with an interval, and `significant` is True only
when that interval excludes zero.

Why Newcombe's hybrid score interval (Newcombe 1998, "Interval estimation for the difference between
independent proportions", method 10): it is built from two Wilson intervals, so unlike the textbook
Wald interval it stays inside [-1, 1], behaves at 0% and 100% rates (common for a fresh holdout with
no reactivations yet), and needs nothing beyond closed-form arithmetic, no iteration, no SciPy.
"""

from __future__ import annotations

from math import sqrt
from statistics import NormalDist

from pydantic import BaseModel

Z_95 = 1.959963984540054  # two-sided 95%: NormalDist().inv_cdf(0.975)


class LiftResult(BaseModel):
    """Everything a report needs; values that cannot be computed are None and `note` says why."""

    treatment_n: int
    treatment_reactivated: int
    control_n: int
    control_reactivated: int
    treatment_rate: float | None = None
    control_rate: float | None = None
    difference: float | None = None  # treatment_rate - control_rate
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float = 0.95
    method: str = "newcombe-wilson"
    significant: bool = False  # the interval excludes 0
    note: str = ""


def z_for(confidence: float) -> float:
    """The two-sided normal quantile for `confidence` (1.96 for 0.95)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    return Z_95 if confidence == 0.95 else NormalDist().inv_cdf(0.5 + confidence / 2)


def _check_counts(successes: int, n: int, successes_name: str, n_name: str) -> None:
    if n < 0:
        raise ValueError(f"{n_name} must not be negative, got {n}")
    if successes < 0:
        raise ValueError(f"{successes_name} must not be negative, got {successes}")
    if successes > n:
        raise ValueError(f"{successes_name} ({successes}) must not exceed {n_name} ({n})")


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for one proportion; sensible even at 0/n and n/n, unlike Wald."""
    _check_counts(successes, n, "successes", "n")
    if n == 0:
        raise ValueError("n must be positive: a rate over zero accounts is undefined")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At 0/n and n/n the bound is exactly 0 or 1 in theory; set it so float dust cannot show.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def compute_lift(treatment_reactivated: int, treatment_n: int, control_reactivated: int, control_n: int,
                 confidence: float = 0.95) -> LiftResult:
    """Treatment minus control reactivation rate, with Newcombe's hybrid score interval."""
    _check_counts(treatment_reactivated, treatment_n, "treatment_reactivated", "treatment_n")
    _check_counts(control_reactivated, control_n, "control_reactivated", "control_n")
    z = z_for(confidence)
    result = LiftResult(treatment_n=treatment_n, treatment_reactivated=treatment_reactivated,
                        control_n=control_n, control_reactivated=control_reactivated, confidence=confidence)
    p1 = treatment_reactivated / treatment_n if treatment_n else None
    p2 = control_reactivated / control_n if control_n else None
    result.treatment_rate, result.control_rate = p1, p2
    if p1 is None or p2 is None:
        missing = [arm for arm, p in (("treatment", p1), ("control", p2)) if p is None]
        result.note = (f"no {' or '.join(missing)} accounts yet, so the difference between the arms "
                       "cannot be computed")
        return result
    l1, u1 = wilson_interval(treatment_reactivated, treatment_n, z)
    l2, u2 = wilson_interval(control_reactivated, control_n, z)
    d = p1 - p2
    result.difference = d
    result.ci_low = d - sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    result.ci_high = d + sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    result.significant = result.ci_low > 0 or result.ci_high < 0
    return result


def _pts(value: float) -> str:
    return f"{100 * value:+.1f} pts"


def lift_summary(lift: LiftResult) -> str:
    """The one-line reading of a lift, e.g. "Difference +20.0 pts (95% CI +5.2 pts to +33.4 pts)"."""
    if lift.difference is None or lift.ci_low is None or lift.ci_high is None:
        return lift.note or "The difference cannot be computed yet."
    verdict = "significant" if lift.significant else "not significant"
    return (f"Difference {_pts(lift.difference)} ({lift.confidence:.0%} CI {_pts(lift.ci_low)} "
            f"to {_pts(lift.ci_high)}), {verdict}")
