package login

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/autho/autho"
)

// decoderParseJSON is the parser reqbody's hand-written one replaced, on
// encoding/json's Decoder. It stays here as the reference: ParseBody must
// answer exactly as it does, for every JSON body.
func decoderParseJSON(body []byte) (Credentials, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Credentials{}, autho.ErrMalformedBody
	}
	var c Credentials
	var haveAPI, havePartner, apiOK, partnerOK bool
	seen := make(map[string]struct{}, 4)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Credentials{}, autho.ErrMalformedBody
		}
		key, _ := tok.(string)
		if _, dup := seen[key]; dup || reserved(key) {
			return Credentials{}, autho.ErrMalformedBody
		}
		seen[key] = struct{}{}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Credentials{}, autho.ErrMalformedBody
		}
		switch key {
		case keyAPI:
			haveAPI = true
			apiOK = json.Unmarshal(raw, &c.APIToken) == nil && raw[0] == '"'
		case keyPartner:
			havePartner = true
			partnerOK = json.Unmarshal(raw, &c.PartnerToken) == nil && raw[0] == '"'
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return Credentials{}, autho.ErrMalformedBody
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Credentials{}, autho.ErrMalformedBody // trailing data
	}
	if !haveAPI || !havePartner || !apiOK || !partnerOK || c.APIToken == "" || c.PartnerToken == "" {
		return Credentials{}, autho.ErrMissingTokens
	}
	return c, nil
}

// reserved reports whether k is one of our keys in another letter case.
func reserved(k string) bool {
	return (strings.EqualFold(k, keyAPI) && k != keyAPI) ||
		(strings.EqualFold(k, keyPartner) && k != keyPartner)
}

// checkAgainstDecoder fails if ParseBody and the Decoder-based parser
// answer a JSON body differently.
func checkAgainstDecoder(t *testing.T, body []byte) {
	t.Helper()
	if !utf8.Valid(body) {
		return // ParseBody refuses it before either parser runs
	}
	got, gerr := ParseBody(body, false)
	want, werr := decoderParseJSON(body)
	if got != want || !errors.Is(gerr, werr) || (gerr == nil) != (werr == nil) {
		t.Fatalf("body %q: ParseBody = %+v, %v; encoding/json = %+v, %v", body, got, gerr, want, werr)
	}
}

func TestParseJSON_AgreesWithDecoder(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	var many strings.Builder
	many.WriteString("{")
	for i := range 3000 {
		many.WriteString(`"k` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `":` + `0,`)
	}
	many.WriteString(`"api_token":"a","partner_token":"p"}`)
	for _, body := range []string{
		`{"api_token":"a","partner_token":"p"}`,
		`{"api_token":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20ac","partner_token":"p"}`,
		`{"api_token":"\ud83d\ude00","partner_token":"p"}`, // a surrogate pair
		`{"api_token":"\ud83d","partner_token":"p"}`,       // a lone high surrogate
		`{"api_token":"\ude00x","partner_token":"p"}`,      // a lone low surrogate
		`{"api_token":"\ud83d\u0041","partner_token":"p"}`, // high, then not low
		`{"api_token":"\ud83d\ud83d\ude00","partner_token":"p"}`,
		`{"\ud800":1,"\udc00":2,"api_token":"a","partner_token":"p"}`, // both keys are U+FFFD
		`{"api_token":"\u00","partner_token":"p"}`,
		`{"api_token":"\uZZZZ","partner_token":"p"}`,
		`{"api_token":"\x","partner_token":"p"}`,
		"{\"api_token\":\"a\tb\",\"partner_token\":\"p\"}", // raw control character
		`{"api_token":"a","partner_token":"p",}`,
		`{,"api_token":"a","partner_token":"p"}`,
		`{"api_token" "a","partner_token":"p"}`,
		`{"api_token":"a" "partner_token":"p"}`,
		`{"api_token":"a","partner_token":"p"`,
		`{"api_token":"a","partner_token":`,
		`{"api_token":"a","partner_token":"p`,
		`{"api_token":"a","partner_token":"p\`,
		`{"x":-0.5e+10,"y":[1,-1,0,1.0,1e5,1E-5],"api_token":"a","partner_token":"p"}`,
		`{"x":01,"api_token":"a","partner_token":"p"}`,
		`{"x":1.,"api_token":"a","partner_token":"p"}`,
		`{"x":.5,"api_token":"a","partner_token":"p"}`,
		`{"x":-,"api_token":"a","partner_token":"p"}`,
		`{"x":1e,"api_token":"a","partner_token":"p"}`,
		`{"x":+1,"api_token":"a","partner_token":"p"}`,
		`{"x":tru,"api_token":"a","partner_token":"p"}`,
		`{"x":nul,"api_token":"a","partner_token":"p"}`,
		`{"x":True,"api_token":"a","partner_token":"p"}`,
		`{"x":{"a":[{},[]],"b":{"c":null}},"api_token":"a","partner_token":"p"}`,
		`{"x":{"a":1,"a":2},"api_token":"a","partner_token":"p"}`, // nested duplicates are allowed
		`{"x":{"API_TOKEN":1},"api_token":"a","partner_token":"p"}`,
		`{"x":[1,],"api_token":"a","partner_token":"p"}`,
		`{"x":[,1],"api_token":"a","partner_token":"p"}`,
		`{"x":{"a"},"api_token":"a","partner_token":"p"}`,
		`{"api_token":true,"partner_token":"p"}`,
		`{"api_token":[],"partner_token":"p"}`,
		`{"api_token":"","partner_token":""}`,
		`{"partner_token":"p","api_token":"a"} ` + "\t\r\n",
		`{"api_token":"a","partner_token":"p"} {}`,
		`{"api_token":"a","partner_token":"p"}` + "\x00",
		` {} `, `{}`, `{`, `}`, ``, ` `, `[]`, `null`, `1`, `"s"`,
		`{"x":` + deep(10000) + `,"api_token":"a","partner_token":"p"}`,
		`{"x":` + deep(10001) + `,"api_token":"a","partner_token":"p"}`,
		`{"x":[[[` + strings.Repeat(`{"a":`, 9997) + `1` + strings.Repeat(`}`, 9997) + `]]],"api_token":"a","partner_token":"p"}`,
		`{"x":[[[[` + strings.Repeat(`{"a":`, 9997) + `1` + strings.Repeat(`}`, 9997) + `]]]],"api_token":"a","partner_token":"p"}`,
		many.String(),
		many.String()[:many.Len()-1] + `,"k0a":1}`,
	} {
		checkAgainstDecoder(t, []byte(body))
	}
}

// FuzzParseJSON checks ParseBody on JSON against encoding/json's Decoder on any
// body: same credentials, same error.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"api_token":"a","partner_token":"p"}`,
		`{"api\u005ftoken":"a","partner_token":"p","x":[1,{"y":null}],"z":-1.5e3}`,
		`{"api_token":"\ud83d\ude00","partner_token":"\ud800x"}`,
		`{"Api_Token":"a"}`,
		`{"a":1,"a":2}`,
		`{"api_token":"a","partner_token":"p"} x`,
		`[[[]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAgainstDecoder(t, body)
	})
}
