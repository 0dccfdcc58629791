"""Deterministic holdout (control group) assignment, so reactivation lift can be measured honestly.

Outreach only proves its worth if some comparable dormant accounts are deliberately *not* contacted;
their reactivation rate is what would have happened anyway. The assignment must be:

- deterministic: the same account and salt always land in the same arm, in every process and replay,
  so a workflow can recompute it instead of storing it, and nobody can "re-roll" an account;
- uniform: a cryptographic hash of the id spreads accounts evenly, independent of how ids are formatted;
- salted: each experiment (salt) draws a fresh, independent split, so one unlucky split does not
  follow the same accounts into every later experiment.

No randomness or clock is used, which keeps this safe to call from Temporal workflow code.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Arm = Literal["treatment", "control"]
ARMS: tuple[Arm, Arm] = ("treatment", "control")

MAX_CONTROL_SHARE = 0.5  # beyond half, "holdout" stops being a holdout; we would rather refuse than guess
_SEPARATOR = "\x1f"  # ASCII unit separator: keeps ("a", "bc") and ("ab", "c") from hashing alike


def bucket(account_id: str, salt: str) -> float:
    """The account's fixed position in [0, 1) for this salt.

    The first 8 bytes of sha256 as a big-endian integer, divided by 2**64: 64 bits is far more
    resolution than any control share needs, and the formula is simple to reproduce elsewhere (SQL,
    a notebook) when an analyst wants to check which arm an account was in.
    """
    digest = hashlib.sha256(f"{salt}{_SEPARATOR}{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_arm(account_id: str, salt: str, control_share: float) -> Arm:
    """Return "control" for roughly `control_share` of accounts, "treatment" for the rest.

    Raises ValueError naming the bad parameter: an empty salt would silently reuse one split for
    every experiment, and a share outside [0, 0.5] is almost certainly a percentage typed as 10
    instead of 0.1, or the arms swapped.
    """
    if not salt:
        raise ValueError("salt must be a non-empty string, one per experiment")
    if not 0 <= control_share <= MAX_CONTROL_SHARE:  # also rejects NaN
        raise ValueError(f"control_share must be between 0 and {MAX_CONTROL_SHARE}, got {control_share}")
    return "control" if bucket(account_id, salt) < control_share else "treatment"
