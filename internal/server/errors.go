package server

import (
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

// fail writes err as the contract's error envelope. Only unexpected errors
// are logged, and their text never reaches the client.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ae *autho.Error
		rl *login.RateLimitError
	)
	switch {
	case errors.As(err, &rl):
		secs := int(math.Ceil(rl.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		ae = autho.ErrTooManyRequests
	case errors.As(err, &ae):
		switch ae {
		case autho.ErrNoCredentials:
			w.Header().Set("WWW-Authenticate", `Bearer realm="autho"`)
		case autho.ErrInvalidBearer:
			w.Header().Set("WWW-Authenticate", `Bearer realm="autho", error="invalid_token"`)
		}
	case errors.Is(err, autho.ErrUnavailable):
		s.log.Warn("database unavailable", "route", r.Pattern, "err", err)
		w.Header().Set("Retry-After", retryAfterUnavailable)
		ae = autho.ErrServiceUnavailable
	default:
		s.log.Error("internal error", "route", r.Pattern, "err", err)
		ae = autho.ErrInternal
	}
	status, ok := statusOf[ae.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	writeEnvelope(w, status, "ERROR", ae.Code, message{ae.Message})
}
