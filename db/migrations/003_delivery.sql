-- Delivery: what the provider said about each message, and addresses that must not be used again.
ALTER TABLE outbox
    ADD COLUMN provider_id text,          -- e.g. the SMS provider's message sid
    ADD COLUMN error       text,          -- the last failure, for ops
    ADD COLUMN sent_at     timestamptz;   -- when the provider accepted it

-- A bounced or refused address is suppressed for every account and episode until the CRM has a new one.
CREATE TABLE suppressed_addresses (
    address     text PRIMARY KEY,          -- lower-cased email address or phone number as sent
    channel     text NOT NULL,
    reason      text NOT NULL,             -- bounce | refused
    account_id  text,
    detail      text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
