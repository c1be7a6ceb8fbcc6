package reqbody

import (
	"strings"
	"testing"

	"github.com/autho/autho"
)

func TestContentType(t *testing.T) {
	tests := []struct {
		header string
		form   bool
		err    error
	}{
		{"", false, nil},
		{"application/json", false, nil},
		{"application/json; charset=utf-8", false, nil},
		{"Application/JSON", false, nil},
		{"application/x-www-form-urlencoded", true, nil},
		{"application/x-www-form-urlencoded; charset=UTF-8", true, nil},
		{"text/plain", false, autho.ErrUnsupportedMedia},
		{"multipart/form-data; boundary=x", false, autho.ErrUnsupportedMedia},
		{"application/json;;", false, autho.ErrUnsupportedMedia},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			form, err := ContentType(tt.header)
			if form != tt.form || err != tt.err {
				t.Fatalf("ContentType(%q) = %v, %v; want %v, %v", tt.header, form, err, tt.form, tt.err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	type want struct {
		a, b Field
		err  error
	}
	fa := func(v string, found, str bool) Field { return Field{Name: "a", Value: v, Found: found, String: str} }
	fb := func(v string, found, str bool) Field { return Field{Name: "b", Value: v, Found: found, String: str} }
	for _, tc := range []struct {
		name string
		body string
		form bool
		want want
	}{
		{"json both", `{"a":"1","b":"2"}`, false, want{fa("1", true, true), fb("2", true, true), nil}},
		{"json one missing", `{"a":"1"}`, false, want{fa("1", true, true), fb("", false, false), nil}},
		{"json not a string", `{"a":1,"b":null}`, false, want{fa("", true, false), fb("", true, false), nil}},
		{"json escaped name", `{"\u0061":"1"}`, false, want{fa("1", true, true), fb("", false, false), nil}},
		{"json others ignored", `{"c":[1,{"a":2}],"A2":true}`, false, want{fa("", false, false), fb("", false, false), nil}},
		{"json case variant", `{"A":"1"}`, false, want{err: autho.ErrMalformedBody}},
		{"json duplicate", `{"c":1,"c":2}`, false, want{err: autho.ErrMalformedBody}},
		{"json trailing", `{"a":"1"}x`, false, want{err: autho.ErrMalformedBody}},
		{"json invalid utf-8", "{\"c\":\"\xff\"}", false, want{err: autho.ErrMalformedBody}},
		{"form both", `a=1&b=2&c=3&c=4`, true, want{fa("1", true, true), fb("2", true, true), nil}},
		{"form empty value", `a=`, true, want{fa("", true, true), fb("", false, false), nil}},
		{"form field twice", `a=1&a=2`, true, want{err: autho.ErrMalformedBody}},
		{"form case variant", `B=1`, true, want{err: autho.ErrMalformedBody}},
		{"form invalid utf-8 in another field", `a=1&c=%ff`, true, want{err: autho.ErrMalformedBody}},
		{"form bad escape", `a=%zz`, true, want{err: autho.ErrMalformedBody}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := Field{Name: "a"}, Field{Name: "b"}
			err := Parse([]byte(tc.body), tc.form, &a, &b)
			if err != tc.want.err {
				t.Fatalf("err = %v, want %v", err, tc.want.err)
			}
			if err == nil && (a != tc.want.a || b != tc.want.b) {
				t.Fatalf("got %+v %+v, want %+v %+v", a, b, tc.want.a, tc.want.b)
			}
		})
	}
}

func TestCheckAndRead(t *testing.T) {
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		length      int64 // -1: unknown, as when chunked
		form        bool
		checkErr    error
		readErr     error
	}{
		{"json", "application/json", `{}`, 2, false, nil, nil},
		{"form", "application/x-www-form-urlencoded", `a=1`, 3, true, nil, nil},
		{"other type", "text/plain", `x`, 1, false, autho.ErrUnsupportedMedia, nil},
		{"declared too large", "", "", MaxBytes + 1, false, autho.ErrBodyTooLarge, nil},
		{"largest", "", string(make([]byte, MaxBytes)), -1, false, nil, nil},
		{"too large, undeclared", "", string(make([]byte, MaxBytes+1)), -1, false, nil, autho.ErrBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form, err := Check(tc.contentType, tc.length)
			if form != tc.form || err != tc.checkErr {
				t.Fatalf("Check = %v, %v; want %v, %v", form, err, tc.form, tc.checkErr)
			}
			if err != nil {
				return
			}
			b, err := Read(strings.NewReader(tc.body))
			if err != tc.readErr || (err == nil && string(b) != tc.body) {
				t.Fatalf("Read = %d bytes, %v; want %d, %v", len(b), err, len(tc.body), tc.readErr)
			}
		})
	}
}
