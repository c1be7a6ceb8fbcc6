package server

import (
	"net/http"
	"strings"

	"github.com/autho/autho"
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
	token, err := bearerToken(r)
	if err != nil {
		return err
	}
	id, err := s.deps.Bearer.Verify(r.Context(), token)
	if err != nil {
		s.log.Debug("bearer refused", "reason", err)
		return autho.ErrInvalidBearer
	}
	scopes := id.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	writeOK(w, meData{
		Message:   "Success",
		UserID:    id.UserID,
		AccountID: id.AccountID,
		TokenID:   id.TokenID,
		Scopes:    scopes,
		ExpiresOn: s.formatTime(id.ExpiresAt),
	})
	return nil
}

// bearerToken extracts the token of an "Authorization: Bearer" header. No
// header, or another scheme, is "no credentials" (15), not "invalid" (16).
func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", autho.ErrNoCredentials
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", autho.ErrNoCredentials
	}
	return token, nil
}
