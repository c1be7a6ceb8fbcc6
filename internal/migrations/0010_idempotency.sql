-- The admin API's Idempotency-Key records: one per operator key and client
-- key, kept a day (created_at ages them out). status is 0 while the first
-- attempt is being answered; body is its answer without secrets.
CREATE TABLE idempotent_requests (
    operator_key_id TEXT NOT NULL REFERENCES operator_keys (id),
    idem_key        TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    status          INTEGER NOT NULL,
    body            TEXT NOT NULL,
    PRIMARY KEY (operator_key_id, idem_key)
);
CREATE INDEX idempotent_requests_created ON idempotent_requests (created_at);
