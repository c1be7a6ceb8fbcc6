-- Passkeys (WebAuthn credentials) as a second factor and as a sign-in of
-- their own, and the state of a ceremony between its two requests. Nothing
-- else refers to these tables.

-- credential_id is the authenticator's id of the credential (hex), unique
-- across users: an assertion names it, and it finds its user. public_key
-- is the COSE key (base64); it is public, so not sealed. flags holds the
-- UP/UV/BE/BS bits the library compares on each use; sign_count the
-- authenticator's counter, written back after each use.
CREATE TABLE webauthn_credentials (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users (id),
    name               TEXT NOT NULL,
    credential_id      TEXT NOT NULL UNIQUE,
    public_key         TEXT NOT NULL,
    sign_count         BIGINT NOT NULL,
    aaguid             TEXT NOT NULL,
    transports         TEXT NOT NULL,  -- comma-separated, as the browser reported them
    flags              INTEGER NOT NULL,
    attestation_type   TEXT NOT NULL,
    attestation_format TEXT NOT NULL,
    attachment         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    last_used_at       BIGINT NOT NULL -- 0: never used to sign in
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- A ceremony begun and not finished: hash is the SHA-256 (hex) of the
-- random id its cookie holds. Finishing takes the row in one DELETE ...
-- RETURNING, so a ceremony is used once whichever node gets the answer.
-- user_id is '' for a passwordless sign-in (the passkey will say who);
-- bound is the hash of what the ceremony belongs to: the session
-- (register, step-up), the pending sign-in (second factor), '' for a
-- passwordless sign-in. data is the library's SessionData as JSON: it
-- holds the challenge, so it is never logged.
CREATE TABLE webauthn_ceremonies (
    hash       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    bound      TEXT NOT NULL,
    name       TEXT NOT NULL,   -- a passkey being registered: its name
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
CREATE INDEX webauthn_ceremonies_user ON webauthn_ceremonies (user_id);
