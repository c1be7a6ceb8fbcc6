package server

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/wire"
)

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
	// A refused bearer is 15 or 16 whatever its cause (a key lookup that
	// met the database down is still a refusal).
	case errors.Is(err, bearer.ErrNoCredentials):
		return autho.ErrNoCredentials
	// A strict verifier that got no answer from introspection has not
	// refused the bearer (autho's own verifier is never strict).
	case errors.Is(err, bearer.ErrUnavailable):
		return autho.ErrServiceUnavailable
	case errors.Is(err, bearer.ErrInvalidToken):
		return autho.ErrInvalidBearer
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

// fail writes err as the contract's error envelope, at the status (and with
// the challenge) the wire table gives its code.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := contractError(err)
	s.failHeaders(w, r, err, ae)
	wire.Write(w, wire.Error(ae))
}

// failHeaders sets the headers that go with the contract's answer ae to
// err (Retry-After), whatever shape the answer is written in, and logs it
// if it is unexpected. Only unexpected errors are logged, and their text
// never reaches the client.
func (s *Server) failHeaders(w http.ResponseWriter, r *http.Request, err error, ae *autho.Error) {
	h := w.Header()
	switch ae {
	case autho.ErrTooManyRequests:
		var rl *login.RateLimitError
		secs := 1
		if errors.As(err, &rl) {
			secs = max(int(math.Ceil(rl.RetryAfter.Seconds())), 1)
		}
		h.Set("Retry-After", strconv.Itoa(secs))
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
}
