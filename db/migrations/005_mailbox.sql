-- The IMAP reader's position per mailbox ("host/username/folder"): the folder's UIDVALIDITY and the last
-- UID handed to the inbound pipeline. A different UIDVALIDITY on the server restarts reading at UID 0.
CREATE TABLE mailbox_cursors (
    mailbox     text PRIMARY KEY,
    uidvalidity bigint NOT NULL,
    last_uid    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
