package login

import (
	"github.com/autho/autho"
	"github.com/autho/autho/internal/reqbody"
)

// Credentials are the two secrets of a login body, as sent.
type Credentials struct {
	APIToken     string
	PartnerToken string
}

const (
	keyAPI     = "api_token"
	keyPartner = "partner_token"
)

// ParseBody reads a login body strictly (reqbody.Parse): ErrMalformedBody
// for anything that is not exactly one object (or form) with unambiguous
// keys, and ErrMissingTokens when either secret is absent, empty or not a
// string.
func ParseBody(body []byte, form bool) (Credentials, error) {
	api, partner := reqbody.Field{Name: keyAPI}, reqbody.Field{Name: keyPartner}
	if err := reqbody.Parse(body, form, &api, &partner); err != nil {
		return Credentials{}, err
	}
	// A value that is not a string leaves Value empty.
	if api.Value == "" || partner.Value == "" {
		return Credentials{}, autho.ErrMissingTokens
	}
	return Credentials{APIToken: api.Value, PartnerToken: partner.Value}, nil
}
