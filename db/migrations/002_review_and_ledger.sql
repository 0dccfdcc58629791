-- Owners and their API tokens (only a SHA-256 of each token is stored).
CREATE TABLE owners (
    email      text PRIMARY KEY,
    is_admin   boolean NOT NULL DEFAULT false,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The review queue: a projection each workflow keeps current at every stage change.
CREATE TABLE review_projection (
    account_id     text PRIMARY KEY,
    workflow_id    text NOT NULL,
    episode        text NOT NULL,
    stage          text NOT NULL,
    path           text,
    priority       double precision,
    owner_email    text,
    segment        text NOT NULL DEFAULT '',
    tier           text,
    last_activity_at timestamptz,
    account_value  numeric(14, 2),
    risk_level     text,
    recommended_next_step text NOT NULL DEFAULT '',
    draft_version  integer NOT NULL DEFAULT 0,
    outcome        text,
    state          jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_projection_queue ON review_projection (stage, priority DESC);
CREATE INDEX review_projection_owner ON review_projection (owner_email, priority DESC);

-- Append-only measurement ledger. Ids are deterministic (episode + step), so retries never duplicate.
CREATE TABLE measurement_events (
    event_id    text PRIMARY KEY,
    at          timestamptz NOT NULL,
    type        text NOT NULL,
    account_id  text NOT NULL,
    workflow_id text NOT NULL,
    episode     text NOT NULL,
    stage       text,
    path        text,
    owner_email text,
    segment     text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX measurement_events_type_at ON measurement_events (type, at);
CREATE INDEX measurement_events_account ON measurement_events (account_id, at);

-- Outbox: every outgoing message, keyed by its deterministic idempotency key.
CREATE TABLE outbox (
    idempotency_key text PRIMARY KEY,
    message_id      text NOT NULL,
    account_id      text NOT NULL,
    workflow_id     text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('first', 'follow_up')),
    channel         text NOT NULL,
    to_address      text NOT NULL,
    from_address    text NOT NULL,
    subject         text NOT NULL DEFAULT '',
    body            text NOT NULL,
    headers         jsonb NOT NULL DEFAULT '{}'::jsonb,
    delivery        text NOT NULL,
    status          text NOT NULL DEFAULT 'stored',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_account ON outbox (account_id, created_at);

-- CRM events as received, whether or not a workflow was open to take them: nothing is lost.
CREATE TABLE crm_events (
    id           bigserial PRIMARY KEY,
    account_id   text NOT NULL,
    type         text NOT NULL,
    at           timestamptz NOT NULL,
    detail       text NOT NULL DEFAULT '',
    received_at  timestamptz NOT NULL DEFAULT now(),
    delivered    boolean NOT NULL DEFAULT false
);
CREATE INDEX crm_events_account ON crm_events (account_id, at);
