// Command behind-gateway is the same tiny API as examples/protected-api with
// no authentication code at all: `autho gateway` in front of it verifies the
// bearer and tells it who the caller is in X-Autho-* headers, after removing
// any the client sent.
//
// It trusts those headers, so it must be reachable only through the
// gateway: it listens on the loopback interface (ADDR, default
// 127.0.0.1:9001), and a deployment keeps it on a private network.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

func main() {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:9001"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", hello)
	mux.HandleFunc("POST /orders", createOrder)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("behind-gateway on http://%s (reach it through autho gateway)", addr)
	log.Fatal(srv.ListenAndServe())
}

// caller is what the gateway says about the request's bearer.
type caller struct {
	User, Account, Token string
	Scopes               []string
}

// callerOf reads the gateway's headers. Without X-Autho-User the request
// did not come through the gateway, and is refused.
func callerOf(r *http.Request) (caller, bool) {
	c := caller{
		User:    r.Header.Get("X-Autho-User"),
		Account: r.Header.Get("X-Autho-Account"),
		Token:   r.Header.Get("X-Autho-Token"),
		Scopes:  strings.Fields(r.Header.Get("X-Autho-Scope")),
	}
	return c, c.User != ""
}

func hello(w http.ResponseWriter, r *http.Request) {
	c, ok := callerOf(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "not called through the gateway"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"message": "hello", "user": c.User, "account": c.Account, "token": c.Token, "scopes": c.Scopes,
	})
}

func createOrder(w http.ResponseWriter, r *http.Request) {
	c, ok := callerOf(r)
	switch {
	case !ok:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "not called through the gateway"})
	case !slices.Contains(c.Scopes, "orders:write"):
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "Insufficient scope"})
	default:
		writeJSON(w, http.StatusCreated, map[string]any{"message": "order created", "account": c.Account})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
