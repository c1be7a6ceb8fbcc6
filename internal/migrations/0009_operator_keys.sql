-- The admin API's operator keys. A key is never deleted, only revoked, so
-- the audit log's "operator:<name>" stays traceable to it; the name is
-- unique for the same reason.
CREATE TABLE operator_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    hash         TEXT NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    read_only    INTEGER NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    last_used_ip TEXT NOT NULL,
    revoked_at   BIGINT
);
