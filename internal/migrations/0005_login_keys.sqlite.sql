-- The login's API token lookup, keyed by an integer. A token's hash is 32
-- random bytes; its first 60 bits, as an INTEGER PRIMARY KEY (the rowid),
-- find the row in a table B-tree whose interior cells are a few bytes each,
-- where the covering index of 0003 carried whole 150-byte entries on every
-- level. With a million tokens (dbstat) that index had 2,074 interior pages
-- on four levels above its leaves, more than a reader's 256-page cache
-- holds, so a lookup missed the cache more than once; this table has 152 on
-- two levels, which stay cached, so a lookup misses once, for its leaf.
-- The whole hash is kept (as 32 bytes, not 64 hex digits) and compared too:
-- the key only finds the row. Two tokens whose hashes share 60 bits cannot
-- both exist (the second insert fails as a conflict); with a million tokens
-- the chance that a new token meets one is about one in a trillion.
--
-- The table is derived from api_tokens by triggers, in the same
-- transaction as the write that changes a token, so no write path can leave
-- it behind: a revocation is refused by the very next login. login_key is
-- a virtual column (computed, not stored) so that the triggers and the
-- copy below share one formula (each shift in parentheses: in SQLite <<
-- and | bind alike, left to right); internal/sqlite/login.go computes the same
-- key from the hash's bytes.
CREATE TABLE api_token_logins (
    login_key  INTEGER PRIMARY KEY,
    hash       BLOB NOT NULL,
    id         TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    account_id TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
ALTER TABLE api_tokens ADD COLUMN login_key INTEGER GENERATED ALWAYS AS (
        ((instr('0123456789abcdef', substr(hash, 1, 1)) - 1) << 56) |
        ((instr('0123456789abcdef', substr(hash, 2, 1)) - 1) << 52) |
        ((instr('0123456789abcdef', substr(hash, 3, 1)) - 1) << 48) |
        ((instr('0123456789abcdef', substr(hash, 4, 1)) - 1) << 44) |
        ((instr('0123456789abcdef', substr(hash, 5, 1)) - 1) << 40) |
        ((instr('0123456789abcdef', substr(hash, 6, 1)) - 1) << 36) |
        ((instr('0123456789abcdef', substr(hash, 7, 1)) - 1) << 32) |
        ((instr('0123456789abcdef', substr(hash, 8, 1)) - 1) << 28) |
        ((instr('0123456789abcdef', substr(hash, 9, 1)) - 1) << 24) |
        ((instr('0123456789abcdef', substr(hash, 10, 1)) - 1) << 20) |
        ((instr('0123456789abcdef', substr(hash, 11, 1)) - 1) << 16) |
        ((instr('0123456789abcdef', substr(hash, 12, 1)) - 1) << 12) |
        ((instr('0123456789abcdef', substr(hash, 13, 1)) - 1) << 8) |
        ((instr('0123456789abcdef', substr(hash, 14, 1)) - 1) << 4) |
        (instr('0123456789abcdef', substr(hash, 15, 1)) - 1)) VIRTUAL;
INSERT INTO api_token_logins (login_key, hash, id, user_id, account_id, scopes, expires_at, revoked_at)
    SELECT login_key, unhex(hash), id, user_id, account_id, scopes, expires_at, revoked_at FROM api_tokens;
CREATE TRIGGER api_token_logins_insert AFTER INSERT ON api_tokens BEGIN
    INSERT INTO api_token_logins (login_key, hash, id, user_id, account_id, scopes, expires_at, revoked_at)
        VALUES (NEW.login_key, unhex(NEW.hash), NEW.id, NEW.user_id, NEW.account_id, NEW.scopes, NEW.expires_at, NEW.revoked_at);
END;
CREATE TRIGGER api_token_logins_update AFTER UPDATE ON api_tokens BEGIN
    UPDATE api_token_logins SET login_key = NEW.login_key, hash = unhex(NEW.hash), id = NEW.id,
        user_id = NEW.user_id, account_id = NEW.account_id, scopes = NEW.scopes,
        expires_at = NEW.expires_at, revoked_at = NEW.revoked_at
        WHERE login_key = OLD.login_key;
END;
CREATE TRIGGER api_token_logins_delete AFTER DELETE ON api_tokens BEGIN
    DELETE FROM api_token_logins WHERE login_key = OLD.login_key;
END;
DROP INDEX api_tokens_login;
