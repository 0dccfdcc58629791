"""Holdout assignment: stable per account, close to the requested share, independent per salt."""

from __future__ import annotations

import hashlib
from math import sqrt

import pytest

from reactivation.holdout import ARMS, assign_arm

IDS = [f"ACC-{i:05d}" for i in range(10_000)]


def test_same_account_and_salt_always_get_the_same_arm():
    first = [assign_arm(a, "exp-1", 0.2) for a in IDS[:500]]
    again = [assign_arm(a, "exp-1", 0.2) for a in IDS[:500]]
    assert first == again
    assert set(first) <= set(ARMS)


def test_matches_the_documented_formula():
    # So analysts can reproduce the split outside Python.
    for account in IDS[:200]:
        value = int.from_bytes(hashlib.sha256(f"exp-1\x1f{account}".encode()).digest()[:8], "big") / 2**64
        assert assign_arm(account, "exp-1", 0.3) == ("control" if value < 0.3 else "treatment")


def test_share_zero_puts_nobody_in_control():
    assert all(assign_arm(a, "exp-1", 0.0) == "treatment" for a in IDS)


@pytest.mark.parametrize("share", [0.1, 0.25, 0.5])
def test_control_count_is_within_three_standard_deviations(share):
    n = len(IDS)
    control = sum(assign_arm(a, "exp-1", share) == "control" for a in IDS)
    sd = sqrt(n * share * (1 - share))
    assert abs(control - n * share) <= 3 * sd, (control, n * share, sd)


def test_a_larger_share_only_adds_accounts_to_control():
    small = {a for a in IDS if assign_arm(a, "exp-1", 0.1) == "control"}
    large = {a for a in IDS if assign_arm(a, "exp-1", 0.25) == "control"}
    assert small < large


def test_changing_the_salt_changes_some_assignments():
    one = [assign_arm(a, "exp-1", 0.25) for a in IDS[:2000]]
    two = [assign_arm(a, "exp-2", 0.25) for a in IDS[:2000]]
    changed = sum(x != y for x, y in zip(one, two))
    # Independent splits disagree on about 2 * 0.25 * 0.75 = 37.5% of accounts.
    assert 0.3 * 2000 < changed < 0.45 * 2000


@pytest.mark.parametrize("share", [-0.01, 0.51, 1.0, 10, float("nan")])
def test_invalid_share_is_refused_by_name(share):
    with pytest.raises(ValueError, match="control_share must be between 0 and 0.5"):
        assign_arm("ACC-1", "exp-1", share)


def test_empty_salt_is_refused_by_name():
    with pytest.raises(ValueError, match="salt"):
        assign_arm("ACC-1", "", 0.1)


def test_boundary_shares_are_accepted():
    assert assign_arm("ACC-1", "exp-1", 0) == "treatment"
    assert assign_arm("ACC-1", "exp-1", 0.5) in ARMS
