package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/wire"
)

func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) error {
	// Short enough that verifiers see a new key soon after a rotation;
	// those that meet an unknown kid refetch anyway.
	w.Header().Set("Cache-Control", "public, max-age=60")
	wire.WriteJSON(w, http.StatusOK, s.deps.Keys.JWKS())
	return nil
}

type discovery struct {
	Issuer           string   `json:"issuer"`
	JWKSURI          string   `json:"jwks_uri"`
	SigningAlgs      []string `json:"id_token_signing_alg_values_supported"`
	LoginEndpoint    string   `json:"login_endpoint"`
	TokenEndpoint    string   `json:"token_endpoint"`
	UserinfoEndpoint string   `json:"userinfo_endpoint"`
}

func (s *Server) handleDiscovery(w http.ResponseWriter, _ *http.Request) error {
	base := strings.TrimRight(s.cfg.Issuer, "/")
	b, err := json.Marshal(discovery{
		Issuer:           s.cfg.Issuer,
		JWKSURI:          base + "/.well-known/jwks.json",
		SigningAlgs:      []string{s.cfg.Algorithm},
		LoginEndpoint:    base + "/v1/autho/apitoken/login/",
		TokenEndpoint:    base + tokenPath,
		UserinfoEndpoint: base + "/v1/autho/me/",
	})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	wire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// asMetadata is RFC 8414's authorization server metadata: what an OAuth2
// client needs to find the token endpoint (the OAuth2 bridge).
type asMetadata struct {
	Issuer                string   `json:"issuer"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	GrantTypes            []string `json:"grant_types_supported"`
	TokenEndpointAuth     []string `json:"token_endpoint_auth_methods_supported"`
	ResponseTypes         []string `json:"response_types_supported"`
	IntrospectionEndpoint string   `json:"introspection_endpoint,omitempty"`
}

// handleASMetadata answers GET /.well-known/oauth-authorization-server.
// There is no authorization endpoint, so response_types_supported (which
// RFC 8414 requires) names only "token", the bearer the token endpoint
// hands out.
func (s *Server) handleASMetadata(w http.ResponseWriter, _ *http.Request) error {
	base := strings.TrimRight(s.cfg.Issuer, "/")
	md := asMetadata{
		Issuer:            s.cfg.Issuer,
		TokenEndpoint:     base + tokenPath,
		JWKSURI:           base + "/.well-known/jwks.json",
		GrantTypes:        []string{"client_credentials"},
		TokenEndpointAuth: []string{"client_secret_basic", "client_secret_post"},
		ResponseTypes:     []string{"token"},
	}
	if s.deps.Introspection != nil {
		md.IntrospectionEndpoint = base + "/v1/autho/token/introspect/"
	}
	b, err := json.Marshal(md)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	wire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// handleRoot points whoever opens the server's bare address, a person in a
// browser most likely, to the portal.
func (s *Server) handleRoot(w http.ResponseWriter, _ *http.Request) error {
	wire.Write(w, wire.OK(struct {
		Message string `json:"message"`
		Portal  string `json:"portal"`
	}{"This is autho: partners sign in to the portal", "/portal/"}))
	return nil
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) error {
	wire.Write(w, wire.OK(wire.Message{Message: "OK"}))
	return nil
}

// handleReady fails while the database cannot be reached, so a load
// balancer sends traffic elsewhere.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.deps.DB.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "err", err)
		w.Header().Set("Retry-After", retryAfterUnavailable)
		wire.Write(w, wire.Error(autho.ErrServiceUnavailable))
		return nil
	}
	wire.Write(w, wire.OK(wire.Message{Message: "OK"}))
	return nil
}

// handleMetrics serves /metrics: the one answer that is not JSON.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	s.deps.Metrics.Handler().ServeHTTP(w, r)
	return nil
}
