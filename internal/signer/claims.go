package signer

import (
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/autho/autho/internal/secret"
)

// Claims are the claims of a login JWT, as the contract lists them.
type Claims struct {
	Issuer    string // iss
	Subject   string // sub: the user id
	Audience  string // aud
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
	ID        string // jti; see NewJTI
	Account   string // acc: the account id
	Token     string // tok: the API token id
	Scope     string // scope: space-separated; omitted when empty
}

// NewJTI returns a fresh JWT id: 22 base62 characters (about 131 bits) from
// crypto/rand, so ids never repeat across nodes without coordination.
func NewJTI() string { return secret.Random(22) }

// wireClaims is Claims as JSON. Times are plain integers so that neither
// jwt.TimePrecision nor jwt.MarshalSingleStringAsString, package globals any
// other code may change, can alter the tokens; "aud" is a single string.
type wireClaims struct {
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	Aud   string `json:"aud"`
	Iat   int64  `json:"iat"`
	Nbf   int64  `json:"nbf"`
	Exp   int64  `json:"exp"`
	Jti   string `json:"jti"`
	Acc   string `json:"acc"`
	Tok   string `json:"tok"`
	Scope string `json:"scope,omitempty"`
}

// newWireClaims converts c. Unix() rounds down, so "exp" never passes the
// expiry the caller asked for (the account's or the API token's own).
func newWireClaims(c *Claims) *wireClaims {
	return &wireClaims{
		Iss:   c.Issuer,
		Sub:   c.Subject,
		Aud:   c.Audience,
		Iat:   c.IssuedAt.Unix(),
		Nbf:   c.NotBefore.Unix(),
		Exp:   c.ExpiresAt.Unix(),
		Jti:   c.ID,
		Acc:   c.Account,
		Tok:   c.Token,
		Scope: c.Scope,
	}
}

// The jwt.Claims interface; golang-jwt only needs it to validate parsed
// tokens, but a claims type must provide it to be signed.

func (w *wireClaims) GetExpirationTime() (*jwt.NumericDate, error) { return date(w.Exp), nil }
func (w *wireClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return date(w.Iat), nil }
func (w *wireClaims) GetNotBefore() (*jwt.NumericDate, error)      { return date(w.Nbf), nil }
func (w *wireClaims) GetIssuer() (string, error)                   { return w.Iss, nil }
func (w *wireClaims) GetSubject() (string, error)                  { return w.Sub, nil }
func (w *wireClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{w.Aud}, nil
}

func date(sec int64) *jwt.NumericDate { return jwt.NewNumericDate(time.Unix(sec, 0)) }
