package bearer

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims of a login JWT: what autho signs and what Verify
// reads, in one type. Claims implements jwt.Claims itself rather than
// embedding jwt.RegisteredClaims because RegisteredClaims' dates decode
// through json.Number, which also accepts a quoted string
// ("exp":"1700000000"), and encode as golang-jwt's package-level settings
// say, which any other code may change.
type Claims struct {
	Issuer    string      `json:"iss"`
	Subject   string      `json:"sub"` // the user id
	Audience  Audience    `json:"aud"`
	IssuedAt  NumericDate `json:"iat"`
	NotBefore NumericDate `json:"nbf"`
	ExpiresAt NumericDate `json:"exp"`
	ID        string      `json:"jti"`
	Account   string      `json:"acc"`             // the account id
	Token     string      `json:"tok"`             // the API token id
	Scope     string      `json:"scope,omitempty"` // space-separated
}

// The jwt.Claims interface, through which golang-jwt checks the registered
// claims of a parsed token.

func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.jwtDate(), nil }
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore.jwtDate(), nil }
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt.jwtDate(), nil }
func (c *Claims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *Claims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *Claims) GetAudience() (jwt.ClaimStrings, error)       { return jwt.ClaimStrings(c.Audience), nil }

var errMissingIdentity = errors.New(`claims "sub", "acc" and "tok" are required`)

// Validate is called by golang-jwt after its own checks. A token that names
// no user, account and API token cannot be turned into an Identity, so it is
// no good to any handler.
func (c *Claims) Validate() error {
	if c.Subject == "" || c.Account == "" || c.Token == "" {
		return errMissingIdentity
	}
	return nil
}

// Identity is who the claims speak for.
func (c *Claims) Identity() *Identity {
	id := &Identity{
		UserID:    c.Subject,
		AccountID: c.Account,
		TokenID:   c.Token,
		JTI:       c.ID,
		ExpiresAt: c.ExpiresAt.Time,
		IssuedAt:  c.IssuedAt.Time,
	}
	if f := strings.Fields(c.Scope); len(f) > 0 {
		id.Scopes = f
	}
	return id
}

// NumericDate is a JWT date claim; the zero value means absent. It is
// written as whole seconds, rounded down (so "exp" never passes the expiry
// it was given), and read only from a JSON number: no string, no null,
// nothing outside year 0..9999 (far-off values would overflow time
// arithmetic into the past or future).
type NumericDate struct{ time.Time }

const maxNumericDate = 253402300799 // 9999-12-31T23:59:59Z

var errNotNumeric = errors.New("date claim is not a number")

func (d NumericDate) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, d.Unix(), 10), nil
}

func (d *NumericDate) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errNotNumeric
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f < 0 || f > maxNumericDate {
		return errNotNumeric
	}
	sec, frac := math.Modf(f)
	d.Time = time.Unix(int64(sec), int64(frac*1e9))
	return nil
}

func (d NumericDate) jwtDate() *jwt.NumericDate {
	if d.IsZero() {
		return nil
	}
	return &jwt.NumericDate{Time: d.Time}
}

// Audience is the "aud" claim. It is read as a string or an array of
// strings, as RFC 7519 allows, and written as a single string when it has
// one member, as autho issues it.
type Audience []string

func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *Audience) UnmarshalJSON(b []byte) error {
	return (*jwt.ClaimStrings)(a).UnmarshalJSON(b)
}
