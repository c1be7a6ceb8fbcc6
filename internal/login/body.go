package login

import (
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/autho/autho"
)

// MaxBodyBytes is the largest login body accepted (413 beyond).
const MaxBodyBytes = 64 << 10

// Credentials are the two secrets of a login body, as sent.
type Credentials struct {
	APIToken     string
	PartnerToken string
}

// CheckContentType accepts JSON (or no Content-Type at all) and
// urlencoded forms, and reports which; anything else is ErrUnsupportedMedia.
func CheckContentType(header string) (form bool, err error) {
	// The exact spellings clients send answer without mime.ParseMediaType,
	// which allocates a parameter map on every request.
	switch header {
	case "application/json":
		return false, nil
	case "application/x-www-form-urlencoded":
		return true, nil
	}
	if strings.TrimSpace(header) == "" {
		return false, nil
	}
	mt, _, perr := mime.ParseMediaType(header)
	switch {
	case perr != nil:
		return false, autho.ErrUnsupportedMedia
	case mt == "application/json":
		return false, nil
	case mt == "application/x-www-form-urlencoded":
		return true, nil
	}
	return false, autho.ErrUnsupportedMedia
}

// ParseBody reads a login body strictly. It answers ErrMalformedBody for
// anything that is not exactly one object (or form) with unambiguous keys,
// and ErrMissingTokens when either secret is absent, empty or not a string.
// Ambiguity is refused rather than resolved because two parsers (a gateway
// and autho) that resolve it differently could be played against each other.
func ParseBody(body []byte, form bool) (Credentials, error) {
	if !utf8.Valid(body) {
		return Credentials{}, autho.ErrMalformedBody
	}
	if form {
		return parseForm(body)
	}
	return parseJSON(body)
}

const (
	keyAPI     = "api_token"
	keyPartner = "partner_token"
)

// reserved reports whether k is one of our keys in another letter case.
func reserved(k string) bool {
	return (strings.EqualFold(k, keyAPI) && k != keyAPI) ||
		(strings.EqualFold(k, keyPartner) && k != keyPartner)
}

func parseForm(body []byte) (Credentials, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return Credentials{}, autho.ErrMalformedBody
	}
	for k, v := range vals {
		if reserved(k) || ((k == keyAPI || k == keyPartner) && len(v) > 1) {
			return Credentials{}, autho.ErrMalformedBody
		}
		// Decoded values must be valid text too (%ff is valid escaping of
		// an invalid byte).
		if !utf8.ValidString(k) {
			return Credentials{}, autho.ErrMalformedBody
		}
		for _, s := range v {
			if !utf8.ValidString(s) {
				return Credentials{}, autho.ErrMalformedBody
			}
		}
	}
	c := Credentials{APIToken: vals.Get(keyAPI), PartnerToken: vals.Get(keyPartner)}
	if c.APIToken == "" || c.PartnerToken == "" {
		return Credentials{}, autho.ErrMissingTokens
	}
	return c, nil
}
