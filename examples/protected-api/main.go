// Command protected-api is a tiny API of the platform that accepts autho's
// bearer JWTs by importing the bearer package: the whole authentication is
// the Verifier set up in main and one Middleware call per route.
//
// Settings (environment): AUTHO_ISSUER (default http://127.0.0.1:8080),
// AUTHO_AUDIENCE (default autho), ADDR (default 127.0.0.1:9000), and
// optionally AUTHO_INTROSPECTION_SECRET to turn on strict mode.
package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/autho/autho/bearer"
)

func main() {
	issuer := strings.TrimRight(env("AUTHO_ISSUER", "http://127.0.0.1:8080"), "/")
	addr := env("ADDR", "127.0.0.1:9000")

	keys := bearer.NewJWKS(issuer+"/.well-known/jwks.json", bearer.JWKSOptions{})
	// Fail now, with a reason, rather than refuse every request later.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := keys.Refresh(ctx); err != nil {
		log.Fatalf("loading autho's keys from %s (is autho running?): %v", issuer, err)
	}
	cancel()

	cfg := bearer.Config{
		Issuer:   issuer,
		Audience: env("AUTHO_AUDIENCE", "autho"),
		Keys:     keys,
		// Clients are only told "Invalid or expired token"; the reason is
		// for our own log.
		OnError: func(r *http.Request, err error) { log.Printf("%s %s refused: %v", r.Method, r.URL.Path, err) },
		// The revocation feed: a revoked token, deactivated user or
		// suspended account is refused within about 5 s, without a call
		// to autho per request.
		Revocations: &bearer.RevocationsConfig{URL: issuer + "/v1/autho/revocations"},
	}
	if secret := os.Getenv("AUTHO_INTROSPECTION_SECRET"); secret != "" {
		// Strict mode: a revoked token stops working within 5 s instead of
		// at its exp, for one call to autho per token every 5 s.
		cfg.Introspection = &bearer.IntrospectionConfig{URL: issuer + "/v1/autho/token/introspect/", Secret: secret}
	}
	v, err := bearer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /hello", v.Middleware(http.HandlerFunc(hello)))
	mux.Handle("POST /orders", v.Middleware(bearer.RequireScope("orders:write", http.HandlerFunc(createOrder))))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("protected-api on http://%s (issuer %s)", addr, issuer)
	log.Fatal(srv.ListenAndServe())
}

// hello answers who the caller is; Middleware guarantees there is one.
func hello(w http.ResponseWriter, r *http.Request) {
	id, _ := bearer.FromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{
		"message":    "hello",
		"user":       id.UserID,
		"account":    id.AccountID,
		"token":      id.TokenID,
		"scopes":     id.Scopes,
		"expires_at": id.ExpiresAt.UTC().Format(time.RFC3339),
	})
}

// createOrder is reached only with the orders:write scope.
func createOrder(w http.ResponseWriter, r *http.Request) {
	id, _ := bearer.FromContext(r.Context())
	writeJSON(w, http.StatusCreated, map[string]any{"message": "order created", "account": id.AccountID})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
