-- The portal's state. Sessions and login failures live in the database, not
-- in a node's memory, so that every node behind a load balancer sees the same
-- sign-ins and the same throttling.

-- One row per signed-in browser. hash is the SHA-256 (hex) of the cookie's
-- random id; the id itself is never stored.
CREATE TABLE portal_sessions (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL,
    ip         TEXT NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id);

-- Each account's audit log. Actor and target are copied as they were, so
-- no foreign key ties them to rows that may change.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    actor_id    TEXT NOT NULL,
    actor_email TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    target_name TEXT NOT NULL,
    at          BIGINT NOT NULL,
    ip          TEXT NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, at, id);

-- Refused portal sign-ins, one row per throttling key (a hashed email, a
-- client IP, the two together) and failure. Throttling counts the recent
-- rows of a key; old rows are deleted.
CREATE TABLE login_failures (
    subject TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (subject, at);
CREATE INDEX login_failures_at ON login_failures (at);
