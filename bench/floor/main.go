// Command floor is the speed floor of autho's login: the least work any
// design of the endpoint must do, with nothing else. It parses the request
// with autho's own parser (internal/login), checks both secrets' format and
// checksum (internal/secret), signs one JWT with the same claims and
// algorithm through autho's own signer (internal/signer), and writes the
// same envelope with the same headers, on net/http. It has no storage: the
// ids in the claims are fixed strings of the real ids' shape, and the key
// lives in a map.
//
// bench/run drives it and "autho serve" alternately; autho's throughput
// as a fraction of this one's is the figure the harness reports. It is a
// benchmark tool, not a server: it never checks that a token exists.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/reqbody"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/signer"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	alg := flag.String("alg", "ES256", "ES256, EdDSA, RS256 or HS256")
	issuer := flag.String("issuer", "", "JWT iss (default http:// + addr, as autho's)")
	audience := flag.String("audience", "autho", "JWT aud")
	ttl := flag.Duration("ttl", 24*time.Hour, "JWT lifetime")
	flag.Parse()
	if *issuer == "" {
		*issuer = "http://" + *addr
	}

	mk := make([]byte, 32)
	rand.Read(mk)
	sealer, err := signer.NewSealer(mk)
	if err != nil {
		log.Fatal(err)
	}
	keys, err := signer.NewKeyring(&memKeys{}, sealer, signer.Options{Algorithm: *alg, TokenTTL: *ttl})
	if err != nil {
		log.Fatal(err)
	}
	if err := keys.EnsureKey(context.Background()); err != nil {
		log.Fatal(err)
	}
	f := &floor{keys: keys, issuer: *issuer, audience: *audience, ttl: *ttl,
		// Ids of the real shape, so the JWT is as long as autho's.
		user: secret.NewID("usr"), account: secret.NewID("acc"), token: secret.NewID("tok")}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/autho/apitoken/login/{$}", f.login)
	mux.HandleFunc("POST /v1/autho/apitoken/login", f.login)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	srv := &http.Server{
		Handler: mux,
		// autho's own bounds, so that both servers manage connections alike.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(os.Stderr, "floor serving on %s (%s)\n", ln.Addr(), *alg)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

type floor struct {
	keys                 *signer.Keyring
	issuer, audience     string
	ttl                  time.Duration
	user, account, token string
}

// login does what autho's handler does, minus the two database reads, the
// rate limiter and the last-used record.
func (f *floor) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	form, err := reqbody.ContentType(r.Header.Get("Content-Type"))
	if err != nil {
		fail(w, http.StatusUnsupportedMediaType, err)
		return
	}
	if r.ContentLength > reqbody.MaxBytes {
		fail(w, http.StatusRequestEntityTooLarge, autho.ErrBodyTooLarge)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, reqbody.MaxBytes+1))
	if err != nil || len(body) > reqbody.MaxBytes {
		fail(w, http.StatusBadRequest, autho.ErrMalformedBody)
		return
	}
	c, err := login.ParseBody(body, form)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	if secret.Check(secret.PartnerToken, c.PartnerToken) != nil {
		fail(w, http.StatusUnauthorized, autho.ErrInvalidPartnerToken)
		return
	}
	if secret.Check(secret.APIToken, c.APIToken) != nil {
		fail(w, http.StatusUnauthorized, autho.ErrInvalidAPIToken)
		return
	}
	now := time.Now()
	exp := now.Add(f.ttl).Truncate(time.Second)
	jwt, err := f.keys.Sign(&bearer.Claims{
		Issuer:    f.issuer,
		Subject:   f.user,
		Audience:  bearer.Audience{f.audience},
		IssuedAt:  bearer.NumericDate{Time: now},
		NotBefore: bearer.NumericDate{Time: now},
		ExpiresAt: bearer.NumericDate{Time: exp},
		ID:        signer.NewJTI(),
		Account:   f.account,
		Token:     f.token,
	})
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	write(w, http.StatusOK, envelope{
		Data:   loginData{Message: "Success", Token: jwt, ExpiresOn: exp.UTC().Format("2006-01-02T15:04:05.000000-07:00")},
		Result: "00", Status: "OK",
	})
}

// envelope and loginData are autho's answer shapes (internal/server).
type envelope struct {
	Data   any      `json:"data"`
	Meta   struct{} `json:"meta"`
	Result string   `json:"result"`
	Status string   `json:"status"`
}

type loginData struct {
	Message   string `json:"message"`
	Token     string `json:"token"`
	ExpiresOn string `json:"expires_on"`
}

func fail(w http.ResponseWriter, status int, err error) {
	var e *autho.Error
	if !errors.As(err, &e) {
		e = &autho.Error{Code: "99", Message: "Internal error"}
	}
	write(w, status, envelope{Data: struct {
		Message string `json:"message"`
	}{e.Message}, Result: e.Code, Status: "ERROR"})
}

// write is how autho writes every JSON answer.
func write(w http.ResponseWriter, status int, v envelope) {
	b, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte{'\n'})
}

// memKeys is a signer.KeyStore in memory: the floor has no database.
type memKeys struct {
	mu   sync.Mutex
	keys []*autho.SigningKey
}

func (m *memKeys) AddSigningKey(_ context.Context, k *autho.SigningKey, verifyUntil time.Time, _ ...autho.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, old := range m.keys {
		if old.RetiredAt.IsZero() {
			old.RetiredAt, old.VerifyUntil = k.CreatedAt, verifyUntil
		}
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeys) SigningKeys(context.Context) ([]*autho.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*autho.SigningKey(nil), m.keys...), nil
}
