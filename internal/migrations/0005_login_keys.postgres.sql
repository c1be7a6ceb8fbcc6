-- SQLite only (0005_login_keys.sqlite.sql): the integer-keyed login table
-- works around the size of SQLite's index B-tree cells; PostgreSQL's hash
-- lookup is one btree probe of its unique index already.
SELECT 1;
