package server

import (
	"net/http"
	"time"

	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/wire"
)

// expiresOnLayout is RFC 3339 with microseconds and a numeric offset, never
// "Z", as the contract's example shows.
const expiresOnLayout = "2006-01-02T15:04:05.000000-07:00"

type loginData struct {
	Message   string `json:"message"`
	Token     string `json:"token"`
	ExpiresOn string `json:"expires_on"`
}

// handleLogin answers POST /v1/autho/apitoken/login/, counting answers by
// result code.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	err := s.login(w, r)
	s.deps.Metrics.login("login", resultCode(err))
	return err
}

// login does the work of handleLogin; login.Service.Serve runs every check,
// in the contract's order.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	res, err := s.deps.Login.Serve(r.Context(), login.Request{
		ContentType: r.Header.Get("Content-Type"),
		Length:      r.ContentLength,
		Body:        r.Body,
		ClientIP:    s.clientIP(r),
	})
	if err != nil {
		return err
	}
	wire.Write(w, wire.OK(loginData{
		Message:   "Success",
		Token:     res.Token,
		ExpiresOn: res.ExpiresAt.In(s.cfg.Location).Format(expiresOnLayout),
	}))
	return nil
}

// formatTime is how other answers show a time.
func (s *Server) formatTime(t time.Time) string {
	return t.In(s.cfg.Location).Format(expiresOnLayout)
}
