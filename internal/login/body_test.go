package login

import (
	"errors"
	"strings"
	"testing"

	"github.com/autho/autho"
)

func TestParseBody(t *testing.T) {
	ok := Credentials{APIToken: "a", PartnerToken: "p"}
	tests := []struct {
		name string
		body string
		form bool
		want Credentials
		err  error
	}{
		{"json ok", `{"api_token":"a","partner_token":"p"}`, false, ok, nil},
		{"json ok whitespace", " \n{ \"partner_token\" : \"p\" , \"api_token\":\"a\" }\n ", false, ok, nil},
		{"json extra fields ignored", `{"api_token":"a","partner_token":"p","x":[1,{"y":null}],"z":1e5}`, false, ok, nil},
		{"json escaped key is the key", `{"api\u005ftoken":"a","partner_token":"p"}`, false, ok, nil},
		{"json empty", ``, false, Credentials{}, autho.ErrMalformedBody},
		{"json array", `[]`, false, Credentials{}, autho.ErrMalformedBody},
		{"json string", `"x"`, false, Credentials{}, autho.ErrMalformedBody},
		{"json null", `null`, false, Credentials{}, autho.ErrMalformedBody},
		{"json truncated", `{"api_token":"a"`, false, Credentials{}, autho.ErrMalformedBody},
		{"json trailing object", `{"api_token":"a","partner_token":"p"}{}`, false, Credentials{}, autho.ErrMalformedBody},
		{"json trailing garbage", `{"api_token":"a","partner_token":"p"} x`, false, Credentials{}, autho.ErrMalformedBody},
		{"json duplicate key", `{"api_token":"a","api_token":"b","partner_token":"p"}`, false, Credentials{}, autho.ErrMalformedBody},
		{"json duplicate escaped key", `{"api_token":"a","api\u005ftoken":"b","partner_token":"p"}`, false, Credentials{}, autho.ErrMalformedBody},
		{"json duplicate other key", `{"x":1,"x":2,"api_token":"a","partner_token":"p"}`, false, Credentials{}, autho.ErrMalformedBody},
		{"json case variant", `{"API_TOKEN":"a","api_token":"a","partner_token":"p"}`, false, Credentials{}, autho.ErrMalformedBody},
		{"json case variant alone", `{"Api_Token":"a","partner_token":"p"}`, false, Credentials{}, autho.ErrMalformedBody},
		{"json BOM", "\ufeff" + `{"api_token":"a","partner_token":"p"}`, false, Credentials{}, autho.ErrMalformedBody},
		{"json invalid utf8", "{\"api_token\":\"a\xff\",\"partner_token\":\"p\"}", false, Credentials{}, autho.ErrMalformedBody},
		{"json missing api", `{"partner_token":"p"}`, false, Credentials{}, autho.ErrMissingTokens},
		{"json missing both", `{}`, false, Credentials{}, autho.ErrMissingTokens},
		{"json empty api", `{"api_token":"","partner_token":"p"}`, false, Credentials{}, autho.ErrMissingTokens},
		{"json number", `{"api_token":1,"partner_token":"p"}`, false, Credentials{}, autho.ErrMissingTokens},
		{"json null value", `{"api_token":null,"partner_token":"p"}`, false, Credentials{}, autho.ErrMissingTokens},
		{"json object value", `{"api_token":{},"partner_token":"p"}`, false, Credentials{}, autho.ErrMissingTokens},
		{"form ok", `api_token=a&partner_token=p`, true, ok, nil},
		{"form extra", `api_token=a&partner_token=p&x=1`, true, ok, nil},
		{"form missing", `api_token=a`, true, Credentials{}, autho.ErrMissingTokens},
		{"form empty value", `api_token=&partner_token=p`, true, Credentials{}, autho.ErrMissingTokens},
		{"form bad escape", `api_token=%zz&partner_token=p`, true, Credentials{}, autho.ErrMalformedBody},
		{"form duplicate", `api_token=a&api_token=b&partner_token=p`, true, Credentials{}, autho.ErrMalformedBody},
		{"form case variant", `API_TOKEN=a&api_token=a&partner_token=p`, true, Credentials{}, autho.ErrMalformedBody},
		{"form escaped invalid utf8", `api_token=%ff&partner_token=p`, true, Credentials{}, autho.ErrMalformedBody},
		{"form semicolon", `api_token=a;partner_token=p`, true, Credentials{}, autho.ErrMalformedBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBody([]byte(tt.body), tt.form)
			if err != tt.err || got != tt.want {
				t.Fatalf("ParseBody(%q) = %+v, %v; want %+v, %v", tt.body, got, err, tt.want, tt.err)
			}
		})
	}
}

// FuzzParseBody checks that the parser never panics, answers only the two
// documented errors, and that whatever it accepts really holds both keys.
func FuzzParseBody(f *testing.F) {
	for _, s := range []string{
		`{"api_token":"a","partner_token":"p"}`,
		`{"api_token":"a","api_token":"b"}`,
		`api_token=a&partner_token=p`,
		`{"x":[[[[{}]]]],"api_token":"a","partner_token":"p"}`,
		"\ufeff{}",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		c, err := ParseBody(body, form)
		if err != nil {
			if !errors.Is(err, autho.ErrMalformedBody) && !errors.Is(err, autho.ErrMissingTokens) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if c.APIToken == "" || c.PartnerToken == "" {
			t.Fatalf("accepted empty credentials from %q", body)
		}
		if !form && !strings.Contains(string(body), "token") {
			t.Fatalf("accepted %q", body)
		}
	})
}
