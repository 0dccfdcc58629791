-- The lifecycle rewrite: when a finished episode's account may be reviewed again, and when the CRM's
-- consent last changed (an opted-out or suppressed account is reopened only after such a change).
ALTER TABLE review_projection
    ADD COLUMN finished_at  timestamptz,   -- set when the episode ended (outcome not null)
    ADD COLUMN reopen_after timestamptz;   -- NULL with an outcome: never automatically (opted out, suppressed)
ALTER TABLE accounts
    ADD COLUMN consent_changed_at timestamptz;
-- The send guard looks for stop events received since an approval.
CREATE INDEX crm_events_account_received ON crm_events (account_id, received_at);
