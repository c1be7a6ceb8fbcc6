package bearer

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// RevocationsType is the "typ" header of autho's revocation feed, so that
// the feed and a login JWT, signed by the same keys, can never be taken
// for one another.
const RevocationsType = "revocations+jwt"

// The kinds of a revocation entry: which claim of a login JWT its id is
// matched against.
const (
	RevokedToken   = "token"   // "tok", the API token's id
	RevokedUser    = "user"    // "sub", the user's id
	RevokedAccount = "account" // "acc", the account's id
)

// RevokedForever is the not_before of a revoked API token's entry: later
// than any iat, so every JWT of the token is refused (a revoked token is
// never usable again). It is the largest date a NumericDate reads.
const RevokedForever int64 = maxNumericDate

// RevocationList is the claims of autho's revocation feed,
// GET /v1/autho/revocations: the one type autho signs and verifiers read.
// A login JWT is revoked when its tok, sub or acc is the ID of an entry of
// that kind and its iat is earlier than the entry's NotBefore.
type RevocationList struct {
	Issuer    string       `json:"iss"`
	IssuedAt  NumericDate  `json:"iat"`
	ExpiresAt NumericDate  `json:"exp"`
	Revoked   []Revocation `json:"revoked"` // never null: [] when none
}

// Revocation is one entry of the feed.
type Revocation struct {
	Kind      string `json:"kind"`       // RevokedToken, RevokedUser or RevokedAccount
	ID        string `json:"id"`         // the token's, user's or account's id
	NotBefore int64  `json:"not_before"` // Unix seconds: JWTs issued earlier are refused
}

// The jwt.Claims interface, through which golang-jwt signs and checks the
// feed's registered claims.

func (l *RevocationList) GetExpirationTime() (*jwt.NumericDate, error) {
	return l.ExpiresAt.jwtDate(), nil
}
func (l *RevocationList) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (l *RevocationList) GetIssuedAt() (*jwt.NumericDate, error)  { return l.IssuedAt.jwtDate(), nil }
func (l *RevocationList) GetIssuer() (string, error)              { return l.Issuer, nil }
func (l *RevocationList) GetSubject() (string, error)             { return "", nil }
func (l *RevocationList) GetAudience() (jwt.ClaimStrings, error)  { return nil, nil }

var errBadEntry = errors.New(`every entry of "revoked" needs a kind of token, user or account and an id`)

// Validate is called by golang-jwt after its own checks: an entry that
// names no known kind or no id would silently refuse nothing, so the whole
// document is refused instead.
func (l *RevocationList) Validate() error {
	if l.Revoked == nil {
		return errBadEntry
	}
	for _, r := range l.Revoked {
		if r.ID == "" || (r.Kind != RevokedToken && r.Kind != RevokedUser && r.Kind != RevokedAccount) {
			return errBadEntry
		}
	}
	return nil
}
