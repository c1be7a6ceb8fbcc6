package sqlite

import (
	"context"
	"encoding/binary"

	"github.com/autho/autho"
)

// loginCredentialsSQL is the whole of a login's reading in one statement:
// the partner token by its unique hash with its account, and the API token
// by its unique hash with its user's active flag. One statement is one read
// transaction and one trip through database/sql and the driver instead of
// two, and it reads only the columns the login checks (PartnerCredential's
// account hint costs an extra index probe the login never uses).
//
// The API token is a subquery, which SQLite materializes before it looks up
// the partner token. Written as a plain LEFT JOIN (looked up inside the
// partner's loop) the same index probes cost four times the page reads
// while the last-used flush was writing (19.7 read syscalls per login
// against 4.5, 165 against 150 µs of CPU per login in bench/run's ES256
// setup).
//
// Each lookup names its index: left to itself the planner prefers a
// unique index, which finds the row id and then reads the table, two
// B-trees where one holds everything. The partner token, account and user
// are read from covering indexes (migration 0003_login_reads); the API
// token from api_token_logins, a table keyed by the first 60 bits of its
// hash (migration 0005_login_keys, which says why), where ?3, the whole
// hash, is checked too. If an index or that table were missing, preparing
// the statement would fail loudly rather than quietly read more.
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

// LoginCredentials reads what a login checks of both secrets, in one
// snapshot. An unknown partner token is autho.ErrNotFound; an unknown API
// token is a nil *autho.APICredential and no error. Only the fields the
// login reads are filled: of the partner token its end, of its account the
// id, status and expiry; of the API token its id, owner, account, hash,
// scopes, expiry and revocation, and its user's active flag.
func (s *Store) LoginCredentials(ctx context.Context, partnerHash, apiHash []byte) (*autho.PartnerCredential, *autho.APICredential, error) {
	c, err := s.login.get()
	if err != nil {
		return nil, nil, wrap("login credentials", err)
	}
	pc, ac, err := c.query(partnerHash, apiHash)
	s.login.put(c)
	if err != nil {
		return nil, nil, wrap("login credentials", err)
	}
	return pc, ac, nil
}
