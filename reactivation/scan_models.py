"""Inputs and outputs of the dormancy scan (workflow and activity)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


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


class ScanPageRequest(BaseModel):
    cutoff: datetime
    cursor: ScanCursor | None
    page_size: int


class ScanPageResult(BaseModel):
    seen: int
    started: int
    already_open: int
    next_cursor: ScanCursor | None  # None when the scan is complete


class ScanResult(BaseModel):
    seen: int
    started: int
    already_open: int
