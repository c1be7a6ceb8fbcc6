-- Second factors of portal users: a TOTP factor per user (its secret sealed
-- with the master key, so that a copy of the database yields no codes),
-- recovery codes as hashes, and the half-signed-in state between a right
-- password and the second factor. Nothing else refers to these tables, so
-- this version may be renumbered.

-- confirmed_at is 0 while enrollment is unfinished: the factor does not
-- count until one code from it has been entered. last_step is the last
-- RFC 6238 time step accepted; a code is accepted only for a later step,
-- in one UPDATE, so a replay fails on every node.
CREATE TABLE totp_factors (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL UNIQUE REFERENCES users (id),
    sealed_secret TEXT NOT NULL,        -- base64, sealed with the master key, id as additional data
    created_at    BIGINT NOT NULL,
    confirmed_at  BIGINT NOT NULL,      -- 0: not confirmed yet
    last_step     BIGINT NOT NULL       -- 0: no code used yet
);

-- hash is the SHA-256 (hex) of the code; the code itself is shown once.
CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id),
    hash       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL,         -- 0: unused
    PRIMARY KEY (user_id, hash)
);

-- hash is the SHA-256 (hex) of the cookie's random id, as for sessions.
CREATE TABLE pending_signins (
    hash           TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    ip             TEXT NOT NULL,
    password_epoch BIGINT NOT NULL
);
CREATE INDEX pending_signins_user ON pending_signins (user_id);
CREATE INDEX pending_signins_expires ON pending_signins (expires_at);
