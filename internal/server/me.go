package server

import (
	"errors"
	"net/http"

	"github.com/autho/autho"
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

// errNoState is a server built without Deps.State: /me then refuses every
// bearer rather than answer from the signature alone.
var errNoState = errors.New("server: /v1/autho/me/ has no state checker (Deps.State)")

// handleMe answers GET /v1/autho/me/: who the bearer is. It is the reference
// "other API", so it verifies the bearer exactly as the public bearer
// package does for every other service; and because it runs inside autho it
// then checks the current state as introspection does (introspect.State, the
// one rule), so that a revoked token, a deactivated user or a suspended or
// expired account is refused at once rather than at the JWT's exp.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	id, err := s.deps.Bearer.VerifyRequest(r)
	if err != nil {
		if !errors.Is(err, bearer.ErrNoCredentials) {
			s.log.Debug("bearer refused", "reason", err)
		}
		return err
	}
	if s.deps.State == nil {
		return errNoState
	}
	usable, err := s.deps.State.Usable(r.Context(), id)
	if err != nil {
		return err // the store is down: 503 14, not a verdict on the token
	}
	if !usable {
		s.log.Debug("bearer refused", "reason", "its API token, user or account is no longer usable")
		return autho.ErrInvalidBearer
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
