package bearer

import (
	"encoding/base64"
	"encoding/json"
	"strings"
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
	alg string
	kid string
}

// forbidden header parameters. jku, x5u, jwk and x5c let the token name its
// own key or where to fetch it; honouring them would let anyone sign with a
// key of their choosing, and merely fetching them is a server-side request
// forgery. crit names extensions the recipient must understand, and we
// understand none (RFC 7515 §4.1.11 says to refuse then).
var forbidden = map[string]bool{"jku": true, "x5u": true, "jwk": true, "x5c": true, "crit": true}

// parseHeader decodes the protected header and applies the checks golang-jwt
// does not make. A parameter given twice is refused: two "alg" values are
// exactly where two parsers (ours and some proxy's) could disagree about
// which one counts.
func parseHeader(seg string) (header, error) {
	var h header
	raw, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil || !utf8.Valid(raw) {
		return h, errBadHeader
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(raw, &params) != nil || params == nil {
		return h, errBadHeader
	}
	if countKeys(raw) != len(params) {
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
		// autho writes "JWT"; anything else is some other kind of object
		// signed by a key we trust, not a bearer meant for us.
		var s string
		if json.Unmarshal(typ, &s) != nil || !strings.EqualFold(s, "JWT") {
			return h, errBadTyp
		}
	}
	return h, nil
}

// countKeys counts the members of the top-level JSON object in raw, which
// json.Unmarshal has already found valid. Compared with the number of
// distinct names Unmarshal kept, it reveals a name given twice, including
// spelled differently ("jku" and "j\u006bu").
func countKeys(raw []byte) int {
	n, depth := 0, 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			// Skip the string; in a valid document, a string at depth 1 that
			// is not a value is followed by ':' and so is a name.
			j := i + 1
			for ; j < len(raw) && raw[j] != '"'; j++ {
				if raw[j] == '\\' {
					j++
				}
			}
			k := j + 1
			for k < len(raw) && (raw[k] == ' ' || raw[k] == '\t' || raw[k] == '\n' || raw[k] == '\r') {
				k++
			}
			if depth == 1 && k < len(raw) && raw[k] == ':' {
				n++
			}
			i = j
		}
	}
	return n
}
