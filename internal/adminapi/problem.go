package adminapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

// Problem is an RFC 9457 problem details object, the body of every error
// the admin API answers. Detail is one line and never holds a secret;
// Field names the input at fault when there is one.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Field  string `json:"field,omitempty"`
}

// The failures of the admin API that are not admin's (whose *admin.Error
// carries its own kind).
var (
	errUnsupportedMedia = errors.New("the body must be application/json")
	errTooLarge         = errors.New("the body is over 64 KiB")
	errNotFound         = errors.New("no such resource")
	errReadOnly         = errors.New("this operator key is read-only: it may only GET")
)

// badRequest is invalid input found before admin saw it: a body that is
// not JSON, a query parameter out of range.
type badRequest struct{ field, detail string }

func (e *badRequest) Error() string { return e.detail }

// methodNotAllowed carries the Allow header's value.
type methodNotAllowed struct{ allow string }

func (e *methodNotAllowed) Error() string { return "method not allowed; this path allows " + e.allow }

// tooMany carries how long the client must wait.
type tooMany struct{ wait time.Duration }

func (e *tooMany) Error() string { return "too many failed attempts from this address" }

// problemOf maps any error of a handler to its answer: the one place the
// admin API decides what a failure looks like. Anything unexpected is 500
// with nothing of its cause, which is logged instead.
func problemOf(err error) Problem {
	var (
		ae  *admin.Error
		br  *badRequest
		mna *methodNotAllowed
		tm  *tooMany
		up  *unprocessable
		cr  *conflictRetry
	)
	p := func(status int, detail, field string) Problem {
		return Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Field: field}
	}
	switch {
	case errors.Is(err, admin.ErrUnauthorized):
		return p(http.StatusUnauthorized, "give a live operator key in the Authorization header, as Bearer", "")
	case errors.Is(err, errReadOnly):
		return p(http.StatusForbidden, err.Error(), "")
	case errors.As(err, &tm):
		return p(http.StatusTooManyRequests, err.Error(), "")
	case errors.As(err, &mna):
		return p(http.StatusMethodNotAllowed, err.Error(), "")
	case errors.As(err, &up):
		return p(http.StatusUnprocessableEntity, err.Error(), "Idempotency-Key")
	case errors.As(err, &cr):
		return p(http.StatusConflict, err.Error(), "Idempotency-Key")
	case errors.Is(err, errNotFound):
		return p(http.StatusNotFound, err.Error(), "")
	case errors.Is(err, errUnsupportedMedia):
		return p(http.StatusUnsupportedMediaType, err.Error(), "")
	case errors.Is(err, errTooLarge):
		return p(http.StatusRequestEntityTooLarge, err.Error(), "")
	case errors.As(err, &br):
		return p(http.StatusBadRequest, br.detail, br.field)
	case errors.As(err, &ae):
		switch {
		case errors.Is(err, autho.ErrNotFound):
			return p(http.StatusNotFound, ae.Message, ae.Field)
		case errors.Is(err, autho.ErrConflict):
			return p(http.StatusConflict, ae.Message, ae.Field)
		case errors.Is(err, admin.ErrForbidden):
			return p(http.StatusForbidden, ae.Message, ae.Field)
		}
		return p(http.StatusBadRequest, ae.Message, ae.Field)
	case errors.Is(err, autho.ErrUnavailable):
		return p(http.StatusServiceUnavailable, "the database cannot be reached; try again shortly", "")
	}
	return p(http.StatusInternalServerError, "internal error", "")
}

// fail writes err's problem, with the headers its status calls for.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	pr := problemOf(err)
	var (
		mna *methodNotAllowed
		tm  *tooMany
		cr  *conflictRetry
	)
	switch {
	case pr.Status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="autho admin"`)
	case errors.As(err, &mna):
		w.Header().Set("Allow", mna.allow)
	case errors.As(err, &tm):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int((tm.wait+time.Second-1)/time.Second))))
	case errors.As(err, &cr):
		w.Header().Set("Retry-After", "1")
	case pr.Status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
	case pr.Status == http.StatusInternalServerError:
		h.log.LogAttrs(r.Context(), slog.LevelError, "admin api: internal error", slog.String("route", r.Pattern), slog.String("error", admin.Redact(err.Error())))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(pr.Status)
	json.NewEncoder(w).Encode(pr)
}

// reply writes v as the JSON answer with status.
func reply(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	// Answers may hold a secret (a new partner token) and always hold
	// account data no cache should keep.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
