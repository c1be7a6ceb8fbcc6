package wire

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/autho/autho"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       Envelope
		bare      bool
		status    int
		body      string
		challenge string
	}{
		{name: "ok", env: OK(Message{"OK"}), status: 200,
			body: `{"data":{"message":"OK"},"meta":{},"result":"00","status":"OK"}` + "\n"},
		{name: "08 malformed", env: Error(autho.ErrMalformedBody), status: 400,
			body: `{"data":{"message":"Malformed request body"},"meta":{},"result":"08","status":"ERROR"}` + "\n"},
		{name: "15 no credentials", env: Error(autho.ErrNoCredentials), status: 401, challenge: `Bearer realm="autho"`,
			body: `{"data":{"message":"Authentication credentials were not provided."},"meta":{},"result":"15","status":"ERROR"}` + "\n"},
		{name: "16 bare", env: Error(autho.ErrInvalidBearer), bare: true, status: 401, challenge: `Bearer realm="autho", error="invalid_token"`,
			body: `{"data":{"message":"Invalid or expired token"},"meta":{},"result":"16","status":"ERROR"}`},
		{name: "17 bare", env: Error(autho.ErrInsufficientScope), bare: true, status: 403,
			body: `{"data":{"message":"Insufficient scope"},"meta":{},"result":"17","status":"ERROR"}`},
		{name: "unknown code", env: Error(&autho.Error{Code: "42", Message: "x"}), status: 500,
			body: `{"data":{"message":"x"},"meta":{},"result":"42","status":"ERROR"}` + "\n"},
		{name: "data that cannot be encoded", env: OK(func() {}), status: 500,
			body: `{"data":{"message":"Internal error"},"meta":{},"result":"99","status":"ERROR"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if tc.bare {
				WriteBare(w, tc.env)
			} else {
				Write(w, tc.env)
			}
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Fatalf("got %d %q, want %d %q", w.Code, w.Body, tc.status, tc.body)
			}
			h := w.Header()
			nosniff, length := "nosniff", strconv.Itoa(len(tc.body))
			if tc.bare {
				nosniff, length = "", ""
			}
			for k, want := range map[string]string{
				"Content-Type":           "application/json",
				"WWW-Authenticate":       tc.challenge,
				"Content-Length":         length,
				"X-Content-Type-Options": nosniff,
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestStatus(t *testing.T) {
	for code, want := range map[string]int{
		"00": 200, "01": 400, "02": 401, "03": 403, "04": 401, "05": 401, "06": 401, "07": 403, "08": 400,
		"09": 429, "10": 405, "11": 413, "12": 404, "13": 415, "14": 503, "15": 401, "16": 401, "17": 403,
		"99": 500, "": 500, "18": 500,
	} {
		if got := Status(code); got != want {
			t.Errorf("Status(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusOK, []byte(`{"keys":[]}`))
	if w.Body.String() != "{\"keys\":[]}\n" || w.Header().Get("Content-Length") != "12" {
		t.Fatalf("got %q, Content-Length %q", w.Body, w.Header().Get("Content-Length"))
	}
}
