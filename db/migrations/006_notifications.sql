-- Owner notifications: an outbox of what owners and admins hear about (daily digest, review reminder,
-- escalation to the admins, customer reply). The key is deterministic (per account, episode and kind; a
-- digest per owner and day; a reply per inbound message), so each is enqueued and sent once.
CREATE TABLE owner_notifications (
    notification_key text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('digest', 'reminder', 'escalation', 'reply')),
    recipient   text NOT NULL,
    account_id  text,
    episode     text,
    subject     text NOT NULL,
    body        text NOT NULL,
    slack_text  text,
    -- sending: claimed, nothing handed to SMTP yet; handing_off: inside SMTP DATA (never resent)
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'handing_off', 'sent', 'skipped_quiet', 'failed')),
    error       text,
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    claimed_at  timestamptz,
    sent_at     timestamptz
);
CREATE INDEX owner_notifications_open ON owner_notifications (created_at)
    WHERE status IN ('pending', 'sending', 'handing_off');
CREATE INDEX owner_notifications_account ON owner_notifications (account_id, episode, kind);

-- What each owner wants to hear: all, only the daily digest, or nothing (escalations to admins still go).
ALTER TABLE owners ADD COLUMN notify text NOT NULL DEFAULT 'all' CHECK (notify IN ('all', 'digest', 'none'));
