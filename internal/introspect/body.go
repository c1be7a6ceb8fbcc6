package introspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/autho/autho"
)

const keyToken = "token"

// ParseBody reads the token from an introspection request body: a JSON
// object or a urlencoded form with a string field "token" (other fields,
// such as RFC 7662's token_type_hint, are ignored). As with the login body,
// ambiguity is refused rather than resolved: "token" twice, or in another
// letter case, is ErrMalformedBody, as is a body without a string "token".
// An empty token is not malformed; it is simply not active.
func ParseBody(body []byte, form bool) (string, error) {
	if !utf8.Valid(body) {
		return "", autho.ErrMalformedBody
	}
	if form {
		return parseForm(body)
	}
	return parseJSON(body)
}

func parseJSON(body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", autho.ErrMalformedBody
	}
	var token string
	found := false
	seen := make(map[string]struct{}, 2)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", autho.ErrMalformedBody
		}
		key, _ := t.(string)
		if _, dup := seen[key]; dup || (key != keyToken && strings.EqualFold(key, keyToken)) {
			return "", autho.ErrMalformedBody
		}
		seen[key] = struct{}{}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", autho.ErrMalformedBody
		}
		if key == keyToken {
			if raw[0] != '"' || json.Unmarshal(raw, &token) != nil {
				return "", autho.ErrMalformedBody
			}
			found = true
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return "", autho.ErrMalformedBody
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", autho.ErrMalformedBody // trailing data
	}
	if !found {
		return "", autho.ErrMalformedBody
	}
	return token, nil
}

func parseForm(body []byte) (string, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return "", autho.ErrMalformedBody
	}
	for k, v := range vals {
		if k != keyToken && strings.EqualFold(k, keyToken) {
			return "", autho.ErrMalformedBody
		}
		if k == keyToken && len(v) != 1 {
			return "", autho.ErrMalformedBody
		}
	}
	v, ok := vals[keyToken]
	if !ok || !utf8.ValidString(v[0]) {
		return "", autho.ErrMalformedBody
	}
	return v[0], nil
}
