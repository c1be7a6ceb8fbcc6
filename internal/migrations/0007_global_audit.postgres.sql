-- The audit log gains events of no account (a signing key rotated), whose
-- account_id is NULL, and a listing of every event (the operator's view),
-- which walks (at, id).
ALTER TABLE audit_events ALTER COLUMN account_id DROP NOT NULL;
CREATE INDEX audit_events_at ON audit_events (at, id);
