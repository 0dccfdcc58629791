-- Inbound mail: every message posted to /v1/inbound/email or read from the mailbox, with its verdict.
-- Nothing is dropped: a message no account could be found for is kept (account_id NULL) and listed.
CREATE TABLE inbound_messages (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    source       text NOT NULL,               -- rfc822 | postmark | sendgrid | imap
    fingerprint  text NOT NULL UNIQUE,        -- the Message-ID, else a hash of the message: read twice, stored once
    message_id   text,
    from_address text,
    subject      text NOT NULL DEFAULT '',
    new_text     text NOT NULL DEFAULT '',    -- the reply without the quoted history
    kind         text NOT NULL,               -- InboundClass
    reason       text NOT NULL,               -- why the classifier said so
    needs_owner  boolean NOT NULL DEFAULT false,
    return_on    date,
    addresses    text[] NOT NULL DEFAULT '{}', -- bounces: the failed recipients
    account_id   text,                        -- NULL: unmatched
    matched_by   text,                        -- message_id | reply_token | sender
    episode      text,
    raw          bytea NOT NULL
);
CREATE INDEX inbound_unmatched ON inbound_messages (received_at DESC) WHERE account_id IS NULL;
CREATE INDEX inbound_account ON inbound_messages (account_id, received_at);
CREATE INDEX inbound_soft_bounces ON inbound_messages USING gin (addresses) WHERE kind = 'soft_bounce';
CREATE INDEX outbox_message_id ON outbox (message_id);
CREATE INDEX outbox_to_address ON outbox (lower(to_address), created_at DESC);
