-- A portal sign-in reserves its attempt before the password is checked: the
-- rows of the attempt are written, under every throttling key, in the same
-- transaction that counted the keys' failures, so that parallel attempts
-- (on any node) see each other. attempt names the rows of one attempt, for
-- removing them when it succeeds; '' marks rows from before this version.
ALTER TABLE login_failures ADD COLUMN attempt TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_attempt ON login_failures (attempt) WHERE attempt <> '';

-- A password change or reset moves the user's password_epoch on; a session
-- is valid only while it carries its user's epoch, so a sign-in that checked
-- the old password cannot leave a session behind, however it interleaves
-- with the change.
ALTER TABLE users ADD COLUMN password_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE portal_sessions ADD COLUMN password_epoch BIGINT NOT NULL DEFAULT 0;
