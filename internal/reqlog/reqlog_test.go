package reqlog

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRecorder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(http.ResponseWriter)
		status int
		bytes  int
	}{
		{"nothing written", func(http.ResponseWriter) {}, 0, 0},
		{"body only", func(w http.ResponseWriter) { w.Write([]byte("hello")) }, 200, 5},
		{"status then body", func(w http.ResponseWriter) { w.WriteHeader(404); w.Write([]byte("no")) }, 404, 2},
		{"second status ignored", func(w http.ResponseWriter) { w.WriteHeader(503); w.WriteHeader(200) }, 503, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			under := httptest.NewRecorder()
			rec := &Recorder{ResponseWriter: under}
			tc.answer(rec)
			if rec.Status != tc.status || rec.Bytes != tc.bytes {
				t.Fatalf("Status %d Bytes %d, want %d %d", rec.Status, rec.Bytes, tc.status, tc.bytes)
			}
			if http.NewResponseController(rec).Flush() != nil {
				t.Fatal("Flush does not reach the underlying writer")
			}
		})
	}
}
