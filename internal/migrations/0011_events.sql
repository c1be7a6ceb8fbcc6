-- Lifecycle events, written with the change that makes them; the webhook
-- endpoints and the queue of deliveries (to an endpoint or a person's
-- email), shared by every node through leases; the thresholds already
-- noticed, so an expiring event is made once per thing, threshold and expiry.
CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    account_id TEXT NOT NULL,           -- '' for an event of no account
    created_at BIGINT NOT NULL,
    data       TEXT NOT NULL            -- a JSON object, never a secret
);
CREATE INDEX events_created ON events (created_at, id);

CREATE TABLE webhook_endpoints (
    id            TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    events        TEXT NOT NULL,        -- space-separated types; '' for every type
    sealed_secret TEXT NOT NULL,        -- base64, sealed with the master key
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT NOT NULL,      -- 0: enabled
    failing_since BIGINT NOT NULL       -- 0: not failing
);

-- endpoint_id and email are '' when not theirs, so that the unique key
-- holds on both engines (NULLs would be distinct).
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events (id),
    endpoint_id     TEXT NOT NULL,
    email           TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease           TEXT NOT NULL,      -- '' when not claimed
    lease_until     BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    done_at         BIGINT NOT NULL,
    UNIQUE (event_id, endpoint_id, email)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, created_at);

CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    n           INTEGER NOT NULL,
    at          BIGINT NOT NULL,
    status      INTEGER NOT NULL,
    error       TEXT NOT NULL,
    PRIMARY KEY (delivery_id, n)
);

CREATE TABLE notices (
    thing_id TEXT NOT NULL,
    kind     TEXT NOT NULL,
    due      BIGINT NOT NULL,
    PRIMARY KEY (thing_id, kind, due)
);
