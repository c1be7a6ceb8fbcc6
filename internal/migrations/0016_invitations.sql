-- Invitations mailed to new users: a one-time link that lets the person
-- set their own password. hash is the SHA-256 (hex) of the link's token;
-- sealed_token is the token sealed with the master key (base64, the id as
-- additional data), kept only until the mail has gone out ('' after), so
-- that a node's outbox can write the link. A link is taken in one
-- conditional UPDATE (unused and not expired), so it works once on any
-- node; expired_noticed_at makes the expiry's audit one per invitation.
CREATE TABLE invitations (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users (id),
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    hash               TEXT NOT NULL UNIQUE,
    sealed_token       TEXT NOT NULL,
    invited_by         TEXT NOT NULL,
    invited_by_email   TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    used_at            BIGINT NOT NULL,      -- 0: unused
    expired_noticed_at BIGINT NOT NULL       -- 0: expiry not audited yet
);
CREATE INDEX invitations_user ON invitations (user_id);
CREATE INDEX invitations_expiring ON invitations (expired_noticed_at, used_at, expires_at);
