-- The audit log gains events of no account (a signing key rotated), whose
-- account_id is NULL, and a listing of every event (the operator's view),
-- which walks (at, id). SQLite cannot drop a NOT NULL constraint, so the
-- table is rebuilt; nothing refers to it.
CREATE TABLE audit_events_new (
    id          TEXT PRIMARY KEY,
    account_id  TEXT REFERENCES accounts (id),
    actor_id    TEXT NOT NULL,
    actor_email TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    target_name TEXT NOT NULL,
    at          BIGINT NOT NULL,
    ip          TEXT NOT NULL
);
INSERT INTO audit_events_new SELECT id, account_id, actor_id, actor_email, action, target_id, target_name, at, ip FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_events_account ON audit_events (account_id, at, id);
CREATE INDEX audit_events_at ON audit_events (at, id);
