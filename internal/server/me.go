package server

import (
	"errors"
	"net/http"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/wire"
)

type meData struct {
	Message   string   `json:"message"`
	UserID    string   `json:"user_id"`
	AccountID string   `json:"account_id"`
	TokenID   string   `json:"token_id"`
	Scopes    []string `json:"scopes"`
	ExpiresOn string   `json:"expires_on"`
}

// handleMe answers GET /v1/autho/me/: who the bearer is. It is the reference
// "other API", so it verifies the bearer exactly as the public bearer
// package does for every other service.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	id, err := s.deps.Bearer.VerifyRequest(r)
	if err != nil {
		if !errors.Is(err, bearer.ErrNoCredentials) {
			s.log.Debug("bearer refused", "reason", err)
		}
		return err
	}
	scopes := id.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	wire.Write(w, wire.OK(meData{
		Message:   "Success",
		UserID:    id.UserID,
		AccountID: id.AccountID,
		TokenID:   id.TokenID,
		Scopes:    scopes,
		ExpiresOn: s.formatTime(id.ExpiresAt),
	}))
	return nil
}
