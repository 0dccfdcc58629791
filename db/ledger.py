"""The measurement ledger and the review projection, written together in one transaction.

A ledger row's id is deterministic (episode, sequence, type), so an activity retried after a crash
inserts nothing new. The projection row is what the review queue reads; it is overwritten with the
workflow's latest view at each step.
"""

from __future__ import annotations

import asyncpg

from reactivation.ledger_models import StepRecord


async def record_step(conn: asyncpg.Connection, step: StepRecord) -> bool:
    """Insert the event (if new) and update the projection; return True if the event was new."""
    async with conn.transaction():
        inserted = await conn.fetchval(
            """INSERT INTO measurement_events
                   (event_id, at, type, account_id, workflow_id, episode, stage, path, owner_email, segment, detail)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (event_id) DO NOTHING RETURNING true""",
            step.event_id, step.at, step.type, step.account_id, step.workflow_id, step.episode, step.stage,
            step.path, step.owner_email, step.segment, step.detail,
        )
        view = step.view
        state = view.state.model_dump(mode="json") if view.state is not None else None
        # A patch (the review's changed top-level fields) merges into the review stored for the same episode.
        await conn.execute(
            """INSERT INTO review_projection AS p
                   (account_id, workflow_id, episode, stage, path, priority, owner_email, segment, tier,
                    last_activity_at, account_value, risk_level, recommended_next_step, draft_version, outcome,
                    state, updated_at, finished_at, reopen_after)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, coalesce($16, '{}'::jsonb), $17,
                       $18, $19)
               ON CONFLICT (account_id) DO UPDATE SET
                   workflow_id = EXCLUDED.workflow_id, episode = EXCLUDED.episode, stage = EXCLUDED.stage,
                   path = coalesce(EXCLUDED.path, p.path), priority = coalesce(EXCLUDED.priority, p.priority),
                   owner_email = EXCLUDED.owner_email, segment = EXCLUDED.segment,
                   tier = coalesce(EXCLUDED.tier, p.tier),
                   last_activity_at = coalesce(EXCLUDED.last_activity_at, p.last_activity_at),
                   account_value = coalesce(EXCLUDED.account_value, p.account_value),
                   risk_level = coalesce(EXCLUDED.risk_level, p.risk_level),
                   recommended_next_step = EXCLUDED.recommended_next_step,
                   draft_version = EXCLUDED.draft_version, outcome = EXCLUDED.outcome,
                   state = CASE WHEN $20::jsonb IS NULL THEN coalesce($16::jsonb, p.state)
                                WHEN p.episode = EXCLUDED.episode THEN p.state || $20::jsonb
                                ELSE p.state END,
                   finished_at = EXCLUDED.finished_at, reopen_after = EXCLUDED.reopen_after,
                   updated_at = EXCLUDED.updated_at
               WHERE p.updated_at <= EXCLUDED.updated_at""",
            step.account_id, step.workflow_id, step.episode, view.stage or step.stage, step.path, view.priority,
            view.owner_email or step.owner_email,
            step.segment, view.tier, view.last_activity_at, view.account_value, view.risk_level,
            view.recommended_next_step, view.draft_version, view.outcome, state, step.at, view.finished_at,
            view.reopen_after, view.state_patch,
        )
    return bool(inserted)
