package bearer

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// claims is what autho puts in a JWT. It implements jwt.Claims itself rather
// than embedding jwt.RegisteredClaims because RegisteredClaims' dates decode
// through json.Number, which also accepts a quoted string ("exp":"1700000000").
type claims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.ClaimStrings `json:"aud"`
	ExpiresAt numericDate      `json:"exp"`
	NotBefore numericDate      `json:"nbf"`
	IssuedAt  numericDate      `json:"iat"`
	ID        string           `json:"jti"`
	Account   string           `json:"acc"`
	Token     string           `json:"tok"`
	Scope     string           `json:"scope"`
}

func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.get(), nil }
func (c *claims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore.get(), nil }
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt.get(), nil }
func (c *claims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *claims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *claims) GetAudience() (jwt.ClaimStrings, error)       { return c.Audience, nil }

var errMissingIdentity = errors.New(`claims "sub", "acc" and "tok" are required`)

// Validate is called by golang-jwt after its own checks. A token that names
// no user, account and API token cannot be turned into an Identity, so it is
// no good to any handler.
func (c *claims) Validate() error {
	if c.Subject == "" || c.Account == "" || c.Token == "" {
		return errMissingIdentity
	}
	return nil
}

func (c *claims) identity() *Identity {
	id := &Identity{
		UserID:    c.Subject,
		AccountID: c.Account,
		TokenID:   c.Token,
		JTI:       c.ID,
		ExpiresAt: c.ExpiresAt.t,
		IssuedAt:  c.IssuedAt.t,
	}
	if f := strings.Fields(c.Scope); len(f) > 0 {
		id.Scopes = f
	}
	return id
}

// numericDate is a JWT NumericDate that must be a JSON number when present:
// no strings, no null, nothing outside year 0..9999 (far-off values would
// overflow time arithmetic into the past or future).
type numericDate struct {
	set bool
	t   time.Time
}

const maxNumericDate = 253402300799 // 9999-12-31T23:59:59Z

var errNotNumeric = errors.New("date claim is not a number")

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errNotNumeric
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f < 0 || f > maxNumericDate {
		return errNotNumeric
	}
	sec, frac := math.Modf(f)
	d.set = true
	d.t = time.Unix(int64(sec), int64(frac*1e9))
	return nil
}

func (d numericDate) get() *jwt.NumericDate {
	if !d.set {
		return nil
	}
	return &jwt.NumericDate{Time: d.t}
}
