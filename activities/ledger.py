"""Writes a workflow step to the measurement ledger and the review projection."""

from __future__ import annotations

import asyncpg
from temporalio import activity

from db.ledger import record_step, record_steps
from reactivation.ledger_model import StepRecord


class LedgerActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name="record_step")
    async def record_step(self, step: StepRecord) -> bool:
        async with self.pool.acquire() as conn:
            return await record_step(conn, step)

    @activity.defn(name="record_steps")
    async def record_steps(self, steps: list[StepRecord]) -> int:
        """A batch of one workflow task's events, in one transaction; returns how many were new."""
        async with self.pool.acquire() as conn:
            return await record_steps(conn, steps)
