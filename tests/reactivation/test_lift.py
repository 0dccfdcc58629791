"""Lift and its Newcombe (1998) hybrid score interval, checked against published values."""

from __future__ import annotations

import pytest

from reactivation.lift import LiftResult, compute_lift, wilson_interval


def test_wilson_interval_matches_newcombe_single_proportion_example():
    # Newcombe (1998, single proportion), method 3 for 81/263: 0.2553 to 0.3662.
    # By hand: p = 0.307985, z^2 = 3.841459, denominator = 1 + z^2/n = 1.014606,
    # centre = (p + z^2/(2n)) / denom = 0.310735, half = z*sqrt(p(1-p)/n + z^2/(4n^2)) / denom = 0.055461.
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=5e-5)
    assert high == pytest.approx(0.3662, abs=5e-5)


def test_wilson_interval_edges_stay_inside_zero_one():
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=5e-5)


def test_newcombe_worked_example_a():
    # Newcombe (1998, Stat Med 17:873), Table II example (a), method 10: 56/70 - 48/80.
    # 56/70 = 0.8 and 48/80 = 0.6, so the difference is 0.2 (not 0.1667 as in the brief we were given).
    # Wilson 95%: treatment (l1, u1) = (0.691834, 0.876953); control (l2, u2) = (0.490455, 0.700382).
    # low  = 0.2 - sqrt((0.8 - 0.691834)^2 + (0.700382 - 0.6)^2) = 0.2 - sqrt(0.011700 + 0.010077) = 0.0524
    # high = 0.2 + sqrt((0.876953 - 0.8)^2 + (0.6 - 0.490455)^2) = 0.2 + sqrt(0.005922 + 0.012000) = 0.3339
    # which is the published interval (+0.0524, +0.3339).
    r = compute_lift(56, 70, 48, 80)
    assert r.treatment_rate == pytest.approx(0.8)
    assert r.control_rate == pytest.approx(0.6)
    assert r.difference == pytest.approx(0.2)
    assert r.ci_low == pytest.approx(0.0524, abs=5e-5)
    assert r.ci_high == pytest.approx(0.3339, abs=5e-5)
    assert r.significant and r.note == "" and r.method == "newcombe-wilson" and r.confidence == 0.95


@pytest.mark.parametrize("counts, low, high", [
    ((9, 10, 3, 10), 0.1705, 0.8090),     # Table II (b)
    ((6, 7, 2, 7), 0.0582, 0.8062),       # (c)
    ((5, 56, 0, 29), -0.0381, 0.1926),    # (d)
    ((0, 10, 0, 20), -0.1611, 0.2775),    # (e)
    ((10, 10, 0, 20), 0.6791, 1.0000),    # (g)
])
def test_other_newcombe_table_examples(counts, low, high):
    r = compute_lift(*counts)
    assert (r.ci_low, r.ci_high) == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_no_reactivations_in_either_arm():
    r = compute_lift(0, 10, 0, 10)  # Table II (f): -0.2775 to +0.2775
    assert r.difference == 0
    assert r.ci_low == pytest.approx(-0.2775, abs=5e-5) and r.ci_high == pytest.approx(0.2775, abs=5e-5)
    assert r.ci_low < 0 < r.ci_high and not r.significant


def test_control_minus_direction_is_treatment_minus_control():
    r = compute_lift(48, 80, 56, 70)
    assert r.difference == pytest.approx(-0.2)
    assert r.ci_low == pytest.approx(-0.3339, abs=5e-5) and r.ci_high == pytest.approx(-0.0524, abs=5e-5)
    assert r.significant


@pytest.mark.parametrize("args, missing", [((3, 10, 0, 0), "no control accounts yet"),
                                           ((0, 0, 3, 10), "no treatment accounts yet"),
                                           ((0, 0, 0, 0), "no treatment or control accounts yet")])
def test_an_empty_arm_gives_none_and_a_note(args, missing):
    r = compute_lift(*args)
    assert r.difference is None and r.ci_low is None and r.ci_high is None
    assert not r.significant and missing in r.note
    assert (r.treatment_rate is None) == (args[1] == 0) and (r.control_rate is None) == (args[3] == 0)


@pytest.mark.parametrize("args, name", [((-1, 10, 0, 10), "treatment_reactivated"),
                                        ((11, 10, 0, 10), "treatment_reactivated"),
                                        ((0, -5, 0, 10), "treatment_n"),
                                        ((0, 10, -1, 10), "control_reactivated"),
                                        ((0, 10, 4, 3), "control_reactivated"),
                                        ((0, 10, 0, -1), "control_n")])
def test_invalid_counts_are_refused_by_name(args, name):
    with pytest.raises(ValueError, match=name):
        compute_lift(*args)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1])
def test_invalid_confidence_is_refused(confidence):
    with pytest.raises(ValueError, match="confidence"):
        compute_lift(5, 10, 5, 10, confidence=confidence)


def test_other_confidence_levels_narrow_or_widen_the_interval():
    r90, r95, r99 = (compute_lift(56, 70, 48, 80, confidence=c) for c in (0.90, 0.95, 0.99))
    assert r90.ci_low > r95.ci_low > r99.ci_low and r90.ci_high < r95.ci_high < r99.ci_high
    assert r99.confidence == 0.99


def test_wilson_refuses_bad_input():
    with pytest.raises(ValueError, match="n must be positive"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 4)


def test_result_round_trips_as_json():
    r = compute_lift(56, 70, 48, 80)
    assert LiftResult.model_validate_json(r.model_dump_json()) == r
