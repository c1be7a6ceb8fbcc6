-- The revocation feed (internal/revocation) lists revoked API tokens,
-- deactivated users and suspended or ended accounts, each from the time of
-- that change. users.deactivated_at and accounts.suspended_at keep the time
-- of the last deactivation or suspension, kept across a reactivation; NULL
-- is never, as api_tokens.revoked_at. Rows already stopped get their
-- updated_at, which is at or after the real change: a JWT issued in
-- between is refused when it need not be, never the other way round.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
ALTER TABLE accounts ADD COLUMN suspended_at BIGINT;
UPDATE users SET deactivated_at = updated_at WHERE active = 0;
UPDATE accounts SET suspended_at = updated_at WHERE status <> 'active';

-- Each part of Store.Revocations is a range scan of one of these, reading
-- nothing else (the id is in the entry). The partial ones leave out the
-- rows never stopped, nearly all of them, which any comparison on the
-- column excludes anyway. accounts' expiry needs one of its own:
-- accounts_login (0003) starts with the id.
CREATE INDEX api_tokens_revoked ON api_tokens (revoked_at, expires_at, id) WHERE revoked_at IS NOT NULL;
CREATE INDEX users_deactivated ON users (deactivated_at, id) WHERE deactivated_at IS NOT NULL;
CREATE INDEX accounts_suspended ON accounts (suspended_at, id) WHERE suspended_at IS NOT NULL;
CREATE INDEX accounts_expiry ON accounts (expires_at, id);

-- Every node polls Store.RevocationVersion several times a second and reads
-- the feed's facts again only when it moved, so it must move with every
-- change the feed lists, and in that change's own transaction. Triggers do
-- it rather than each Go method: then every writer bumps it, the store's
-- methods present and future, the seed, and the CLI in another process,
-- without any of them remembering to. revoked_at is written in api_tokens
-- (internal/sqlite/apitoken.go; api_token_logins is a copy made by 0005's
-- triggers), so that is where its triggers are. SQLite has one writer at a
-- time, so "version + 1" never loses a bump.
CREATE TABLE revocation_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO revocation_version (id, version) VALUES (1, 1);

CREATE TRIGGER revocation_version_token_revoke AFTER UPDATE OF revoked_at ON api_tokens
    WHEN NEW.revoked_at IS NOT OLD.revoked_at
BEGIN
    UPDATE revocation_version SET version = version + 1;
END;
CREATE TRIGGER revocation_version_token_insert AFTER INSERT ON api_tokens
    WHEN NEW.revoked_at IS NOT NULL
BEGIN
    UPDATE revocation_version SET version = version + 1;
END;
CREATE TRIGGER revocation_version_user_deactivate AFTER UPDATE OF deactivated_at ON users
    WHEN NEW.deactivated_at IS NOT OLD.deactivated_at
BEGIN
    UPDATE revocation_version SET version = version + 1;
END;
CREATE TRIGGER revocation_version_user_insert AFTER INSERT ON users
    WHEN NEW.deactivated_at IS NOT NULL
BEGIN
    UPDATE revocation_version SET version = version + 1;
END;
CREATE TRIGGER revocation_version_account_update AFTER UPDATE OF suspended_at, expires_at ON accounts
    WHEN NEW.suspended_at IS NOT OLD.suspended_at OR NEW.expires_at IS NOT OLD.expires_at
BEGIN
    UPDATE revocation_version SET version = version + 1;
END;
-- An account always has an expiry, so every new account moves the version.
CREATE TRIGGER revocation_version_account_insert AFTER INSERT ON accounts
BEGIN
    UPDATE revocation_version SET version = version + 1;
END;
