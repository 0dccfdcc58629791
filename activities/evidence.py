"""Gathers the evidence pack for one account from the CRM store."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.evidence_queries import AccountNotFound, load_evidence
from reactivation.evidence_model import EvidencePack, EvidenceRequest


class EvidenceActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name="gather_evidence")
    async def gather_evidence(self, request: EvidenceRequest) -> EvidencePack:
        async with self.pool.acquire() as conn:
            try:
                return await load_evidence(conn, request.account_id, datetime.now(UTC))
            except AccountNotFound as err:
                # Retrying cannot make an unknown account appear: fail the step for good.
                raise ApplicationError(str(err), type="AccountNotFound", non_retryable=True) from err
