-- The CRM store: what `dormant import` loads and the evidence activity reads.
CREATE TABLE accounts (
    account_id        text PRIMARY KEY,
    name              text NOT NULL,
    segment           text NOT NULL DEFAULT '',
    tier              text NOT NULL CHECK (tier IN ('strategic', 'standard', 'self_serve')),
    owner_email       text,
    account_value     numeric(14, 2),
    currency          text NOT NULL DEFAULT 'USD',
    last_activity_at  timestamptz,
    preferred_channel text NOT NULL DEFAULT 'email' CHECK (preferred_channel IN ('email', 'sms', 'call')),
    contact_name      text NOT NULL DEFAULT '',
    contact_email     text,
    contact_phone     text,
    timezone          text,
    consent_status    text NOT NULL DEFAULT 'unknown' CHECK (consent_status IN ('granted', 'opted_out', 'unknown')),
    inactivity_reason text NOT NULL DEFAULT '',
    risk_level        text NOT NULL DEFAULT 'low' CHECK (risk_level IN ('low', 'medium', 'high')),
    relationship      text NOT NULL DEFAULT 'unknown' CHECK (relationship IN ('strong', 'neutral', 'strained', 'unknown')),
    fit               text NOT NULL DEFAULT 'unknown' CHECK (fit IN ('high', 'medium', 'low', 'unknown')),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- The dormancy scan walks accounts by (last_activity_at, account_id) with keyset pagination.
CREATE INDEX accounts_last_activity ON accounts (last_activity_at, account_id);
CREATE INDEX accounts_owner ON accounts (owner_email);

CREATE TABLE tickets (
    ticket_id  text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    opened_at  timestamptz NOT NULL,
    closed_at  timestamptz,
    status     text NOT NULL,
    severity   text NOT NULL DEFAULT '',
    category   text NOT NULL DEFAULT '',
    subject    text NOT NULL DEFAULT '',
    body       text NOT NULL DEFAULT ''
);
CREATE INDEX tickets_account ON tickets (account_id, opened_at DESC);

CREATE TABLE orders (
    order_id    text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    amount      numeric(14, 2) NOT NULL,
    description text NOT NULL DEFAULT ''
);
CREATE INDEX orders_account ON orders (account_id, at DESC);

CREATE TABLE activities (
    account_id text NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    type       text NOT NULL,
    detail     text NOT NULL DEFAULT '',
    PRIMARY KEY (account_id, at, type)
);

CREATE TABLE notes (
    account_id   text NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    at           timestamptz NOT NULL,
    author_email text NOT NULL DEFAULT '',
    body         text NOT NULL,
    PRIMARY KEY (account_id, at, author_email)
);

CREATE TABLE offers (
    offer_id    text PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    kind        text NOT NULL DEFAULT '',
    promotional boolean NOT NULL DEFAULT false,
    segment     text NOT NULL DEFAULT '',
    valid_until date
);

-- Which CRM files have ever been loaded. A source never loaded (no tickets.csv, say) means that
-- history is disconnected, and the readiness gate refuses to call an account ready without it.
CREATE TABLE crm_sources (
    source      text PRIMARY KEY,
    rows        integer NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);
