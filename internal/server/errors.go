package server

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/login"
)

// statusOf is the one table from the contract's result codes to HTTP
// statuses.
var statusOf = map[string]int{
	"01": http.StatusBadRequest,
	"02": http.StatusUnauthorized,
	"03": http.StatusForbidden,
	"04": http.StatusUnauthorized,
	"05": http.StatusUnauthorized,
	"06": http.StatusUnauthorized,
	"07": http.StatusForbidden,
	"08": http.StatusBadRequest,
	"09": http.StatusTooManyRequests,
	"10": http.StatusMethodNotAllowed,
	"11": http.StatusRequestEntityTooLarge,
	"12": http.StatusNotFound,
	"13": http.StatusUnsupportedMediaType,
	"14": http.StatusServiceUnavailable,
	"15": http.StatusUnauthorized,
	"16": http.StatusUnauthorized,
	"99": http.StatusInternalServerError,
}

// retryAfterUnavailable is what a client is told to wait while the
// database is down.
const retryAfterUnavailable = "5"

// adapt turns a handlerFunc into an http.Handler whose failures are written
// by fail.
func (s *Server) adapt(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// contractError maps any error a handler returns to the contract's answer.
// Unexpected errors become 99 (or 14 when the database is unreachable).
func contractError(err error) *autho.Error {
	var ae *autho.Error
	switch {
	case errors.Is(err, autho.ErrTooManyRequests):
		return autho.ErrTooManyRequests
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, autho.ErrUnavailable):
		return autho.ErrServiceUnavailable
	}
	return autho.ErrInternal
}

// resultCode is the "result" an answer carries: "00" for success.
func resultCode(err error) string {
	if err == nil {
		return "00"
	}
	return contractError(err).Code
}

// fail writes err as the contract's error envelope. Only unexpected errors
// are logged, and their text never reaches the client.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := contractError(err)
	h := w.Header()
	switch ae {
	case autho.ErrTooManyRequests:
		var rl *login.RateLimitError
		secs := 1
		if errors.As(err, &rl) {
			secs = max(int(math.Ceil(rl.RetryAfter.Seconds())), 1)
		}
		h.Set("Retry-After", strconv.Itoa(secs))
	case autho.ErrNoCredentials:
		h.Set("WWW-Authenticate", `Bearer realm="autho"`)
	case autho.ErrInvalidBearer:
		h.Set("WWW-Authenticate", `Bearer realm="autho", error="invalid_token"`)
	case autho.ErrServiceUnavailable:
		s.log.Warn("database unavailable", "route", r.Pattern, "err", err)
		h.Set("Retry-After", retryAfterUnavailable)
	case autho.ErrInternal:
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			// The client went away mid-request: nothing is wrong here.
			s.log.Debug("client went away", "route", r.Pattern)
		} else {
			s.log.Error("internal error", "route", r.Pattern, "err", err)
		}
	}
	status, ok := statusOf[ae.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	writeEnvelope(w, status, "ERROR", ae.Code, message{ae.Message})
}
