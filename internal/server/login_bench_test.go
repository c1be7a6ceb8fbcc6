package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/server"
	"github.com/autho/autho/internal/signer"
	"github.com/autho/autho/internal/sqlite"
)

// benchTokens is how many API tokens the login benchmark seeds: enough that
// the hash index has a few levels and consecutive logins touch different
// pages, as in production.
const benchTokens = 20_000

// BenchmarkLogin is the login path in process: the whole handler chain
// (request log line at info level, metrics, routing, parsing), the
// exchange with its two SQLite lookups, the signature and the envelope,
// from many goroutines at once. Every iteration uses another token.
// "badsum" sends a partner token with a wrong checksum: refused before the
// database and the signer, it shows what the refusal costs.
func BenchmarkLogin(b *testing.B) {
	for _, alg := range []string{signer.ES256, signer.EdDSA, signer.HS256} {
		b.Run(alg, func(b *testing.B) { benchLogin(b, alg, false) })
	}
	b.Run("badsum", func(b *testing.B) { benchLogin(b, signer.ES256, true) })
}

func benchLogin(b *testing.B, alg string, badSum bool) {
	h, bodies := newBenchServer(b, alg)
	if badSum {
		for i, body := range bodies {
			// The partner token's last checksum character, just before the
			// closing quote and brace.
			c := bytes.Clone(body)
			c[len(c)-3] ^= 1
			bodies[i] = c
		}
	}
	want := http.StatusOK
	if badSum {
		want = http.StatusUnauthorized
	}
	tmpl := &http.Request{
		Method:     http.MethodPost,
		URL:        &url.URL{Path: "/v1/autho/apitoken/login/"},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Host:       "127.0.0.1",
		RemoteAddr: "127.0.0.1:50000",
	}
	var next atomic.Int64 // spreads the goroutines over the token list
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		body := &bytes.Reader{}
		i := int(next.Add(int64(len(bodies)/8))) % len(bodies)
		for pb.Next() {
			i = (i + 1) % len(bodies)
			body.Reset(bodies[i])
			r := tmpl.WithContext(context.Background())
			r.Body = io.NopCloser(body)
			r.ContentLength = int64(len(bodies[i]))
			clear(w.h)
			w.status = 0
			h.ServeHTTP(w, r)
			if w.status != want {
				b.Errorf("status %d, want %d", w.status, want)
				return
			}
		}
	})
}

// newBenchServer is a server as "autho serve" wires it, on a SQLite file
// holding benchTokens tokens over 100 accounts, and the login bodies of
// every token.
func newBenchServer(b *testing.B, alg string) (http.Handler, [][]byte) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	bodies := seedBench(b, st, 100, benchTokens)

	sealer, _ := signer.NewSealer(make([]byte, 32))
	keys, err := signer.NewKeyring(st, sealer, signer.Options{Algorithm: alg, TokenTTL: 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	if err := keys.EnsureKey(ctx); err != nil {
		b.Fatal(err)
	}
	usage := login.NewRecorder(st, nil)
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { usage.Run(rctx, time.Second); close(done) }()
	b.Cleanup(func() { stop(); <-done })

	svc := login.NewService(st, keys, nil, usage, login.Config{Issuer: "http://127.0.0.1", Audience: "autho", TTL: 24 * time.Hour})
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := server.New(server.Config{Issuer: "http://127.0.0.1", Algorithm: alg, Logger: log},
		server.Deps{Login: svc, Keys: keys, DB: st, Metrics: server.NewMetrics()})
	return srv, bodies
}

// seedBench stores accounts, one user each, and tokens spread over them,
// through the bulk path dev seed uses, and returns a JSON login body per
// token.
func seedBench(b *testing.B, st *sqlite.Store, accounts, tokens int) [][]byte {
	b.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	until := now.Add(30 * 24 * time.Hour)
	var (
		accs   []*autho.Account
		ptns   []*autho.PartnerToken
		users  []*autho.User
		toks   []*autho.APIToken
		bodies [][]byte
	)
	plain := make([]string, accounts)
	for k := range accounts {
		plain[k] = secret.New(secret.PartnerToken)
		a := &autho.Account{ID: secret.NewID("acc"), Name: "bench", Status: autho.AccountActive,
			ExpiresAt: until, CreatedAt: now, UpdatedAt: now}
		accs = append(accs, a)
		ptns = append(ptns, &autho.PartnerToken{ID: secret.NewID("ptk"), AccountID: a.ID,
			Hash: secret.Hash(plain[k]), Hint: secret.Hint(plain[k]), CreatedAt: now})
		users = append(users, &autho.User{ID: secret.NewID("usr"), AccountID: a.ID,
			Email: secret.Random(12) + "@bench.invalid", Role: autho.RoleMember, Active: true, CreatedAt: now, UpdatedAt: now})
	}
	for i := range tokens {
		k := i % accounts
		api := secret.New(secret.APIToken)
		toks = append(toks, &autho.APIToken{ID: secret.NewID("tok"), UserID: users[k].ID, AccountID: accs[k].ID,
			Name: "bench", Hash: secret.Hash(api), Hint: secret.Hint(api), CreatedAt: now, ExpiresAt: until})
		bodies = append(bodies, []byte(`{"api_token":"`+api+`","partner_token":"`+plain[k]+`"}`))
	}
	if err := st.InsertBulk(context.Background(), accs, ptns, users, toks); err != nil {
		b.Fatal(err)
	}
	return bodies
}

// discardWriter is the cheapest http.ResponseWriter: the benchmark
// measures the server, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
