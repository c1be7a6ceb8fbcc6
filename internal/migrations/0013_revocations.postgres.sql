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
-- column excludes anyway. None holds a column the last-used writes change,
-- so those stay HOT updates (0003).
CREATE INDEX api_tokens_revoked ON api_tokens (revoked_at, expires_at, id) WHERE revoked_at IS NOT NULL;
CREATE INDEX users_deactivated ON users (deactivated_at, id) WHERE deactivated_at IS NOT NULL;
CREATE INDEX accounts_suspended ON accounts (suspended_at, id) WHERE suspended_at IS NOT NULL;
CREATE INDEX accounts_expiry ON accounts (expires_at, id);

-- Every node polls Store.RevocationVersion several times a second and reads
-- the feed's facts again only when it moved, so it must move with every
-- change the feed lists, and in that change's own transaction. Triggers do
-- it rather than each Go method: then every writer bumps it, the store's
-- methods present and future, the seed, and the CLI, without any of them
-- remembering to.
--
-- A row, not a SEQUENCE: nextval is not transactional, so a reader could
-- see the new number before the change behind it commits, and miss it
-- until the next full read. The row is updated under its lock, so
-- concurrent transactions never lose a bump, and a reader sees the new
-- number exactly when it sees the change.
--
-- The triggers are constraint triggers, deferred: they bump at commit,
-- after everything else the transaction does. Bumping in the statement
-- would hold the row's lock from the first change to the commit, and a
-- transaction waiting for it could hold a lock the holder needs next (a
-- user's deactivation writing its audit event locks the account's key,
-- which a suspension of that account holds FOR UPDATE): a deadlock. At
-- commit the holder needs nothing more.
--
-- A transaction bumps once, however many rows it changes: the first bump
-- notes itself in a transaction-local setting and the others return. A bulk
-- insert of thousands of accounts (autho dev seed) would otherwise update
-- one row thousands of times in one transaction, each walking the chain of
-- versions the ones before it left.
CREATE TABLE revocation_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO revocation_version (id, version) VALUES (1, 1);

CREATE FUNCTION bump_revocation_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('autho.revocation_bumped', true) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('autho.revocation_bumped', 'on', true);
    UPDATE revocation_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER revocation_version_token_revoke AFTER UPDATE OF revoked_at ON api_tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at)
    EXECUTE FUNCTION bump_revocation_version();
CREATE CONSTRAINT TRIGGER revocation_version_token_insert AFTER INSERT ON api_tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION bump_revocation_version();
CREATE CONSTRAINT TRIGGER revocation_version_user_deactivate AFTER UPDATE OF deactivated_at ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.deactivated_at IS DISTINCT FROM OLD.deactivated_at)
    EXECUTE FUNCTION bump_revocation_version();
CREATE CONSTRAINT TRIGGER revocation_version_user_insert AFTER INSERT ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.deactivated_at IS NOT NULL)
    EXECUTE FUNCTION bump_revocation_version();
CREATE CONSTRAINT TRIGGER revocation_version_account_update AFTER UPDATE OF suspended_at, expires_at ON accounts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.suspended_at IS DISTINCT FROM OLD.suspended_at OR NEW.expires_at IS DISTINCT FROM OLD.expires_at)
    EXECUTE FUNCTION bump_revocation_version();
-- An account always has an expiry, so every new account moves the version.
CREATE CONSTRAINT TRIGGER revocation_version_account_insert AFTER INSERT ON accounts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION bump_revocation_version();
