package adminapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/reqbody"
)

// The failures of an Idempotency-Key.
var (
	errIdemMismatch = errors.New("this Idempotency-Key was used with another request (method, path or body): use a new key for a new request")
	errIdemPending  = errors.New("a request with this Idempotency-Key is still being answered, or its first attempt was cut off: retry shortly, or check its outcome before using a new key")
)

// secretFields are the answer members that hold a secret shown once: a
// replay shows none of them, and says so with "secret_shown": false.
var secretFields = []string{"partner_token", "token", "password", "key", "secret"}

// idempotent answers a POST sent with an Idempotency-Key: the first attempt
// runs (and its answer, without secrets, is kept a day, in the database, so
// on every node); a repeat runs nothing and gets that answer again, with
// Idempotent-Replayed: true.
func (h *handler) idempotent(w http.ResponseWriter, r *http.Request, k *autho.OperatorKey, key string, run func(http.ResponseWriter, *http.Request)) error {
	if len(key) > 255 || !printable(key) {
		return &badRequest{field: "Idempotency-Key", detail: "Idempotency-Key must be at most 255 printable ASCII characters"}
	}
	body, err := reqbody.Read(r.Body)
	if errors.Is(err, autho.ErrBodyTooLarge) {
		return errTooLarge
	}
	if err != nil {
		return &badRequest{detail: "the body could not be read"}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256([]byte(r.Method + "\n" + r.URL.Path + "\n" + string(body)))
	fp := hex.EncodeToString(sum[:])

	prev, err := h.svc.StartIdempotent(r.Context(), k, key, fp)
	switch {
	case err != nil:
		return err
	case prev != nil && prev.Fingerprint != fp:
		return &unprocessable{errIdemMismatch}
	case prev != nil && prev.Pending():
		return &conflictRetry{errIdemPending}
	case prev != nil:
		ct := "application/json"
		if prev.Status >= 400 {
			ct = "application/problem+json"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(prev.Status)
		w.Write(prev.Body)
		return nil
	}
	rec := &recorder{ResponseWriter: w}
	run(rec, r)
	// Kept without secrets: the database never holds one in the clear.
	h.svc.FinishIdempotent(r.Context(), k, key, rec.status, withoutSecrets(rec.body.Bytes()))
	return nil
}

// withoutSecrets is a JSON object answer without its secrets, marked
// "secret_shown": false when it had any; any other answer as it is.
func withoutSecrets(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	shown := false
	for _, f := range secretFields {
		if _, ok := m[f]; ok {
			delete(m, f)
			shown = true
		}
	}
	if !shown {
		return body
	}
	m["secret_shown"] = json.RawMessage("false")
	b, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return append(b, '\n')
}

func printable(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// recorder passes an answer on and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// unprocessable is 422: a request the server understood but will not do.
type unprocessable struct{ err error }

func (e *unprocessable) Error() string { return e.err.Error() }

// conflictRetry is 409 with Retry-After: try the same again shortly.
type conflictRetry struct{ err error }

func (e *conflictRetry) Error() string { return e.err.Error() }
