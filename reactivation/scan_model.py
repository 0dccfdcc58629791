"""Inputs and outputs of the dormancy scan (workflow and activity).

`skipped` counts accounts the re-entry policy kept out (reactivation/reentry.py), by SkipReason value; it
defaults to empty so payloads and histories recorded before it existed still parse.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from reactivation.reentry import WHY, SkipReason


class ScanCursor(BaseModel):
    last_activity_at: datetime
    account_id: str


class ScanInput(BaseModel):
    dormancy_days: int = 90
    page_size: int = 200
    pages_per_run: int = 50  # continue-as-new after this many pages, so the history stays small
    cutoff: datetime | None = None  # fixed on the first run so every page uses the same cutoff
    cursor: ScanCursor | None = None
    seen: int = 0
    started: int = 0
    already_open: int = 0
    skipped: dict[str, int] = {}


class ScanPageRequest(BaseModel):
    cutoff: datetime
    cursor: ScanCursor | None
    page_size: int


class ScanPageResult(BaseModel):
    seen: int
    started: int
    already_open: int
    next_cursor: ScanCursor | None  # None when the scan is complete
    skipped: dict[str, int] = {}


class ScanResult(BaseModel):
    seen: int
    started: int
    already_open: int
    skipped: dict[str, int] = {}

    def summary(self) -> str:
        """One line for people: `dormant scan` prints it and the workflow shows it as its progress."""
        text = f"{self.seen} dormant accounts: {self.started} started, {self.already_open} already open"
        if self.skipped:
            reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(self.skipped.items()))
            text += f", {sum(self.skipped.values())} skipped ({reasons})"
        return text

    def skip_lines(self) -> list[str]:
        """One line per skip reason, with why such accounts are kept out (WHY is keyed by the StrEnum, which
        hashes and compares as its value)."""
        return [f"  skipped {count} {reason}: {WHY.get(SkipReason(reason), reason) if reason in SkipReason.__members__ else reason}"
                for reason, count in sorted(self.skipped.items())]


def add_counts(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Per-reason counts added up (a new dict: workflow inputs are not mutated)."""
    return {reason: total.get(reason, 0) + more.get(reason, 0) for reason in sorted(total.keys() | more.keys())}
