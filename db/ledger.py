"""The measurement ledger and the review projection, written together in one transaction.

A ledger row's id is deterministic (episode, sequence, type), so an activity retried after a crash
inserts nothing new. The projection row is what the review queue reads; it is overwritten with the
workflow's latest view at each step.
"""

from __future__ import annotations

import json

import asyncpg

from reactivation.ledger_model import StepRecord

# The projection upsert, its arguments numbered after the events' eleven arrays ($12..$31, `_projection_args`).
_PROJECTION_UPSERT = """INSERT INTO review_projection AS p
           (account_id, workflow_id, episode, stage, path, priority, owner_email, segment, tier,
            last_activity_at, account_value, risk_level, recommended_next_step, draft_version, outcome,
            state, updated_at, finished_at, reopen_after)
       VALUES ($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, coalesce($27, '{}'::jsonb), $28,
               $29, $30)
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
           state = CASE WHEN $31::jsonb IS NULL THEN coalesce($27::jsonb, p.state)
                        WHEN p.episode = EXCLUDED.episode THEN p.state || $31::jsonb
                        ELSE p.state END,
           finished_at = EXCLUDED.finished_at, reopen_after = EXCLUDED.reopen_after,
           updated_at = EXCLUDED.updated_at
       WHERE p.updated_at <= EXCLUDED.updated_at"""

# Columns that keep their earlier value when a step does not know it (coalesce in the upsert above).
_KEPT_WHEN_UNKNOWN = ("priority", "tier", "last_activity_at", "account_value", "risk_level")


async def record_step(conn: asyncpg.Connection, step: StepRecord) -> bool:
    """Insert the event (if new) and update the projection; return True if the event was new."""
    return await record_steps(conn, [step]) == 1


async def record_steps(conn: asyncpg.Connection, steps: list[StepRecord]) -> int:
    """Insert a batch of events (the new ones) and update the projection once, with what writing them one
    after another would leave: the last step's view, and for the columns a step may not know, the latest
    value any step of the batch knew. Returns how many events were new.

    One statement (two data-modifying CTEs), so it is atomic without BEGIN/COMMIT: one round trip per batch
    instead of four. The ledger is on every step's path (issue 18)."""
    if not steps:
        return 0
    inserted = await conn.fetchval(
        f"""WITH new AS (
               INSERT INTO measurement_events
                   (event_id, at, type, account_id, workflow_id, episode, stage, path, owner_email, segment, detail)
               SELECT e, a, t, ac, w, ep, st, pa, o, se, d::jsonb
               FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
                           $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
                    AS x(e, a, t, ac, w, ep, st, pa, o, se, d)
               ON CONFLICT (event_id) DO NOTHING RETURNING 1),
           projection AS ({_PROJECTION_UPSERT} RETURNING 1)
           SELECT count(*) FROM new""",
        [s.event_id for s in steps], [s.at for s in steps], [s.type for s in steps],
        [s.account_id for s in steps], [s.workflow_id for s in steps], [s.episode for s in steps],
        [s.stage for s in steps], [s.path for s in steps], [s.owner_email for s in steps],
        [s.segment for s in steps], [json.dumps(s.detail) for s in steps],
        *_projection_args(steps),
    )
    return int(inserted)


def _projection_args(steps: list[StepRecord]) -> tuple:
    """The projection upsert's arguments ($12..$31) for a batch."""
    step = steps[-1]
    view = step.view.model_copy(update={
        column: next((v for s in reversed(steps) if (v := getattr(s.view, column)) is not None), None)
        for column in _KEPT_WHEN_UNKNOWN})
    path = next((s.path for s in reversed(steps) if s.path is not None), None)
    state = view.state.model_dump(mode="json") if view.state is not None else None
    # A patch (the review's changed top-level fields) merges into the review stored for the same episode.
    return (step.account_id, step.workflow_id, step.episode, view.stage or step.stage, path, view.priority,
            view.owner_email or step.owner_email,
            step.segment, view.tier, view.last_activity_at, view.account_value, view.risk_level,
            view.recommended_next_step, view.draft_version, view.outcome, state, step.at, view.finished_at,
            view.reopen_after, view.state_patch)
