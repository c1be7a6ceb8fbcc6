package server

import (
	"bytes"
	"net/http"
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
	h.Set("ETag", doc.ETag)
	// Any cache must ask again: a stale copy would hide a revocation.
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(doc.Body))
	return nil
}
