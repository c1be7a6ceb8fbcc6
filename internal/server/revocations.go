package server

import (
	"bytes"
	"net/http"
	"strings"
	"time"

	"github.com/autho/autho"
)

// handleRevocations answers GET /v1/autho/revocations with the feed as
// built last, never building it here: a request costs neither a database
// read nor a signature, however many verifiers poll. The ETag lets a
// verifier whose copy is current get 304 without the body; ServeContent
// does the If-None-Match matching.
func (s *Server) handleRevocations(w http.ResponseWriter, r *http.Request) error {
	doc := s.deps.Revocations.Current()
	if doc == nil {
		// Not built yet (the database was away since the start): a
		// verifier keeps its last copy and retries.
		return autho.ErrServiceUnavailable
	}
	h := w.Header()
	h.Set("Content-Type", "application/jwt")
	// Any cache must ask again: a stale copy would hide a revocation.
	h.Set("Cache-Control", "no-cache")
	h.Add("Vary", "Accept-Encoding")
	body, etag := doc.Body, doc.ETag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = doc.Gzip, doc.GzipETag
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	return nil
}

// acceptsGzip reads an Accept-Encoding header (RFC 9110 §12.5.3): gzip, or
// *, listed without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if q == "q=0" || strings.HasPrefix(q, "q=0.") && strings.Trim(q[4:], "0") == "" {
			return false
		}
		return true
	}
	return false
}
