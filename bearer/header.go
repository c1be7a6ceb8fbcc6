package bearer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// compact reports whether token has the shape of a JWS in compact
// serialization: three non-empty base64url segments joined by two dots and
// nothing else (no padding, no whitespace, no JSON). It returns where the
// header segment ends. The JSON serialization, JWE (five segments) and
// unsigned tokens ("a.b.") all fail here, before any decoding.
func compact(token string) (headerEnd int, ok bool) {
	dots := 0
	last := -1
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case c == '.':
			if i == last+1 { // empty segment
				return 0, false
			}
			dots++
			if dots > 2 {
				return 0, false
			}
			if dots == 1 {
				headerEnd = i
			}
			last = i
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return 0, false
		}
	}
	return headerEnd, dots == 2 && last < len(token)-1
}

type header struct {
	alg    string
	kid    string
	typ    string
	hasTyp bool
}

// forbidden header parameters. jku, x5u, jwk and x5c let the token name its
// own key or where to fetch it; honouring them would let anyone sign with a
// key of their choosing, and merely fetching them is a server-side request
// forgery. crit names extensions the recipient must understand, and we
// understand none (RFC 7515 §4.1.11 says to refuse then).
var forbidden = map[string]bool{"jku": true, "x5u": true, "jwk": true, "x5c": true, "crit": true}

// parseHeader decodes the protected header and applies the checks golang-jwt
// does not make. What typ must be is the caller's to say: a login JWT's and
// the revocation feed's differ.
func parseHeader(seg string) (header, error) {
	var h header
	raw, ok := objectSegment(seg)
	if !ok {
		return h, errBadHeader
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(raw, &params) != nil {
		return h, errBadHeader
	}
	for name := range params {
		if forbidden[name] {
			return h, errForbiddenHdr
		}
	}
	alg, ok := params["alg"]
	if !ok || json.Unmarshal(alg, &h.alg) != nil {
		return h, errBadHeader
	}
	if kid, ok := params["kid"]; ok && json.Unmarshal(kid, &h.kid) != nil {
		return h, errBadHeader
	}
	if typ, ok := params["typ"]; ok {
		if json.Unmarshal(typ, &h.typ) != nil {
			return h, errBadTyp
		}
		h.hasTyp = true
	}
	return h, nil
}

// loginTyp checks a login JWT's typ: autho writes "JWT"; anything else is
// some other kind of object signed by a key we trust, not a bearer meant
// for us. The revocation feed is named on its own, as it is the one such
// object autho itself signs with the login keys: accepted as a bearer, it
// would be a token without sub, acc or tok, refused later anyway, but for
// the wrong reason and only by luck of its claims.
func loginTyp(h header) error {
	typ := h.typ
	switch {
	case !h.hasTyp || strings.EqualFold(typ, "JWT"):
		return nil
	case strings.EqualFold(typ, RevocationsType) || strings.EqualFold(typ, "application/"+RevocationsType):
		return errFeedAsBearer
	}
	return errBadTyp
}

// objectSegment decodes seg, the header or the claims segment of a token,
// and returns the JSON object it holds, with the checks golang-jwt does not
// make: strict base64url, valid UTF-8 (which encoding/json would silently
// replace), nothing but one object, and every member name given once.
func objectSegment(seg string) ([]byte, bool) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil || !utf8.Valid(raw) || !json.Valid(raw) {
		return nil, false
	}
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false
	}
	if !uniqueNames(raw) {
		return nil, false
	}
	return raw, true
}

// uniqueNames reports whether no member name of the top-level JSON object
// in raw (already found valid) is given twice, whether spelled the same,
// with escapes ("jku" and "j\u006bu") or in other letter cases ("sub" and
// "SUB"). Two members of one name are exactly where two parsers disagree:
// encoding/json, which golang-jwt reads the claims with, matches names in
// any letter case and keeps the last, while other JOSE libraries keep the
// first or match exactly; so two "alg" or two "sub" could mean one thing
// to us and another to a proxy or another service.
func uniqueNames(raw []byte) bool {
	names := make([]string, 0, 16)
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			// Skip the string; in a valid document, a string at depth 1 that
			// is not a value is followed by ':' and so is a name.
			j, escaped := i+1, false
			for ; j < len(raw) && raw[j] != '"'; j++ {
				if raw[j] == '\\' {
					j++
					escaped = true
				}
			}
			k := j + 1
			for k < len(raw) && (raw[k] == ' ' || raw[k] == '\t' || raw[k] == '\n' || raw[k] == '\r') {
				k++
			}
			if depth == 1 && k < len(raw) && raw[k] == ':' {
				name := string(raw[i+1 : j])
				if escaped && json.Unmarshal(raw[i:j+1], &name) != nil {
					return false
				}
				names = append(names, foldName(name))
			}
			i = j
		}
	}
	slices.Sort(names)
	return len(slices.Compact(names)) == len(names)
}

// foldName maps the names encoding/json takes for one another to one
// string: each rune becomes the one its case-folding orbit is known by,
// the smallest of the orbit, in lower case when that is an ASCII letter
// (so that the commonest names, in lower-case ASCII, are their own fold
// and cost nothing). "ſ" (U+017F) and "S" both become "s", as
// encoding/json matches them.
func foldName(name string) string {
	return strings.Map(func(r rune) rune {
		for {
			f := unicode.SimpleFold(r)
			if f <= r {
				r = f
				break
			}
			r = f
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}, name)
}
