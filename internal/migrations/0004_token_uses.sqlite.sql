-- Last use of each API token, in a narrow table of its own. The login
-- records uses in memory and writes them once a second; each write dirties
-- the page holding the token's row. In api_tokens a row is some 300 bytes,
-- so a busy second over 100,000 tokens dirtied thousands of distinct pages,
-- each copied to the WAL and back into the database (a fifth of a login's
-- CPU in bench/run). Here a row is about 50 bytes, keyed by the token id
-- (WITHOUT ROWID: one B-tree, no separate id index), so the same second
-- dirties far fewer pages. No foreign key: the flush would pay a probe
-- of api_tokens for each use to check it, and every id it writes comes from
-- a login that has just found the token (tokens are never deleted).
CREATE TABLE api_token_uses (
    token_id TEXT PRIMARY KEY,
    at       BIGINT NOT NULL,
    ip       TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO api_token_uses (token_id, at, ip)
    SELECT id, last_used_at, last_used_ip FROM api_tokens WHERE last_used_at IS NOT NULL;
ALTER TABLE api_tokens DROP COLUMN last_used_at;
ALTER TABLE api_tokens DROP COLUMN last_used_ip;
