package dispatch

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRegister(t *testing.T) {
	say := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, s) })
	}
	mux := http.NewServeMux()
	Register(mux, []Route{
		{"GET", "/things", say("list")},
		{"POST", "/things", say("create")},
		{"DELETE", "/things/{id}", say("delete")},
	}, func(allow string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Allow", allow)
			w.WriteHeader(http.StatusMethodNotAllowed)
		})
	})
	for _, tc := range []struct {
		method, path string
		status       int
		body, allow  string
	}{
		{"GET", "/things", 200, "list", ""},
		{"HEAD", "/things", 200, "list", ""},
		{"POST", "/things", 200, "create", ""},
		{"PUT", "/things", 405, "", "GET, HEAD, POST"},
		{"DELETE", "/things/1", 200, "delete", ""},
		{"GET", "/things/1", 405, "", "DELETE"},
		{"GET", "/other", 404, "404 page not found\n", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			if w.Code != tc.status || w.Body.String() != tc.body || w.Header().Get("Allow") != tc.allow {
				t.Fatalf("got %d %q Allow %q, want %d %q Allow %q", w.Code, w.Body, w.Header().Get("Allow"), tc.status, tc.body, tc.allow)
			}
		})
	}
}
