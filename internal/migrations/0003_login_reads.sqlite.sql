-- Covering indexes for the login's one statement (internal/sqlite/login.go):
-- each of its four lookups then reads one B-tree instead of a unique index
-- and then the table. With a million API tokens that halves the random page
-- reads of a login (bench/RESULTS.md). The unique constraints stay; these
-- only serve reads. scopes may be several KB: SQLite keeps a long entry on
-- overflow pages, which is why PostgreSQL (whose index entries are limited
-- to about 2.7 KB) gets something else in its own 0003.
CREATE INDEX partner_tokens_login ON partner_tokens (hash, account_id, expires_at);
CREATE INDEX accounts_login ON accounts (id, status, expires_at);
CREATE INDEX api_tokens_login ON api_tokens (hash, id, user_id, account_id, scopes, expires_at, revoked_at);
CREATE INDEX users_login ON users (id, active);
