package introspect

import (
	"github.com/autho/autho"
	"github.com/autho/autho/internal/reqbody"
)

// ParseBody reads the token from an introspection request body: a JSON
// object or a urlencoded form with a string field "token" (other fields,
// such as RFC 7662's token_type_hint, are ignored). As with the login body,
// ambiguity is refused rather than resolved (reqbody.Parse), and so is a
// body without a string "token": both are ErrMalformedBody. An empty token
// is not malformed; it is simply not active.
func ParseBody(body []byte, form bool) (string, error) {
	token := reqbody.Field{Name: "token"}
	if err := reqbody.Parse(body, form, &token); err != nil {
		return "", err
	}
	if !token.String {
		return "", autho.ErrMalformedBody
	}
	return token.Value, nil
}
