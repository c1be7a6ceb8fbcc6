package sqlite

import (
	"context"
	"encoding/binary"

	"github.com/autho/autho"
)

// loginCredentialsSQL is the whole of a login's reading in one statement:
// the partner token by its unique hash with its account, and the API token
// by its unique hash with its user's active flag, reading only the columns
// the login checks. One statement is one read transaction instead of two.
//
// The API token is a subquery, which SQLite materializes before it looks up
// the partner token: as a plain LEFT JOIN, looked up inside the partner's
// loop, the same probes read four times the pages while the last-used flush
// writes (bench/RESULTS.md).
//
// Each lookup names its index, so that each reads one B-tree: left to
// itself the planner prefers a unique index, which finds the row id and
// then reads the table. The partner token, account and user are read from
// covering indexes (migration 0003_login_reads); the API token from
// api_token_logins, a table keyed by the first 60 bits of its hash
// (migration 0005_login_keys says why), where ?3, the whole hash, is
// checked too. A missing index or table fails the statement's preparation
// loudly rather than quietly reading more.
const loginCredentialsSQL = `SELECT p.expires_at, a.id, a.status, a.expires_at,
	x.id, x.user_id, x.account_id, x.scopes, x.expires_at, x.revoked_at, x.active
	FROM partner_tokens p INDEXED BY partner_tokens_login
	JOIN accounts a INDEXED BY accounts_login ON a.id = p.account_id
	LEFT JOIN (SELECT t.id, t.user_id, t.account_id, t.scopes, t.expires_at, t.revoked_at, u.active
		FROM api_token_logins t
		JOIN users u INDEXED BY users_login ON u.id = t.user_id
		WHERE t.login_key = ?2 AND t.hash = ?3) x ON 1
	WHERE p.hash = ?1`

// loginKey is api_token_logins' key for a hash: its first 60 bits, the
// value migration 0005's login_key column computes from the first 15 hex
// digits. A hash too short to have one (never a SHA-256) gets -1, which no
// row has.
func loginKey(hash []byte) int64 {
	if len(hash) < 8 {
		return -1
	}
	return int64(binary.BigEndian.Uint64(hash) >> 4)
}

// LoginCredentials reads a login's record in one snapshot, on the login's
// own connections (loginPool, loginconn.go).
func (s *Store) LoginCredentials(ctx context.Context, partnerHash, apiHash []byte) (*autho.LoginRecord, error) {
	rec, err := s.login.read(partnerHash, apiHash)
	if err != nil {
		return nil, wrap("login credentials", err)
	}
	return rec, nil
}
