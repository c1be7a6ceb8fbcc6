package secretscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// signingKey is one of "GitHub's" keys: made in the test, published by a
// keyServer.
type signingKey struct {
	id   string
	priv *ecdsa.PrivateKey
}

func newSigningKey(tb testing.TB, id string) signingKey {
	tb.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return signingKey{id: id, priv: priv}
}

func pemOf(tb testing.TB, pub any) string {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// keyServer is a real HTTP server on 127.0.0.1 that serves a keys document
// shaped like GitHub's, and counts how often it is asked.
type keyServer struct {
	*httptest.Server
	fetches     atomic.Int32
	notModified atomic.Int32 // conditional fetches answered 304

	mu        sync.Mutex
	doc       []byte
	status    int
	etag      string // "" serves no ETag
	userAgent string // of the last fetch
}

func newKeyServer(tb testing.TB, keys ...signingKey) *keyServer {
	tb.Helper()
	ks := &keyServer{status: http.StatusOK}
	ks.publish(tb, keys...)
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		status, doc, etag := ks.status, ks.doc, ks.etag
		ks.userAgent = r.UserAgent()
		ks.mu.Unlock()
		if etag != "" {
			if r.Header.Get("If-None-Match") == etag {
				ks.notModified.Add(1)
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(doc)
	}))
	tb.Cleanup(ks.Close)
	return ks
}

// publish replaces the served document with one listing keys, the last
// being current.
func (ks *keyServer) publish(tb testing.TB, keys ...signingKey) {
	tb.Helper()
	var doc keysDoc
	for i, k := range keys {
		doc.PublicKeys = append(doc.PublicKeys, struct {
			KeyIdentifier string `json:"key_identifier"`
			Key           string `json:"key"`
			IsCurrent     bool   `json:"is_current"`
		}{k.id, pemOf(tb, &k.priv.PublicKey), i == len(keys)-1})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(b)
	ks.mu.Lock()
	ks.status, ks.doc, ks.etag = http.StatusOK, b, `"`+hex.EncodeToString(sum[:8])+`"`
	ks.mu.Unlock()
}

// serve replaces the served answer with status and doc, without an ETag.
func (ks *keyServer) serve(status int, doc []byte) {
	ks.mu.Lock()
	ks.status, ks.doc, ks.etag = status, doc, ""
	ks.mu.Unlock()
}

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestKeys(ks *keyServer, c *clock) *Keys {
	k := NewKeys(ks.URL)
	k.Now = c.Now
	return k
}

func TestKeys_Key(t *testing.T) {
	a := newSigningKey(t, "key-a")
	ks := newKeyServer(t, a)
	c := newClock()
	keys := newTestKeys(ks, c)
	ctx := context.Background()

	t.Run("fetched on first use", func(t *testing.T) {
		pub, err := keys.Key(ctx, "key-a")
		if err != nil {
			t.Fatal(err)
		}
		if !pub.Equal(&a.priv.PublicKey) {
			t.Fatal("wrong key")
		}
	})
	t.Run("cached", func(t *testing.T) {
		for range 5 {
			if _, err := keys.Key(ctx, "key-a"); err != nil {
				t.Fatal(err)
			}
		}
		if n := ks.fetches.Load(); n != 1 {
			t.Fatalf("fetches = %d, want 1", n)
		}
	})
	t.Run("unknown within the minute: no fetch", func(t *testing.T) {
		if _, err := keys.Key(ctx, "key-x"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("err = %v, want ErrUnknownKey", err)
		}
		if n := ks.fetches.Load(); n != 1 {
			t.Fatalf("fetches = %d, want 1", n)
		}
	})
	t.Run("rotation: a new id refetches", func(t *testing.T) {
		b := newSigningKey(t, "key-b")
		ks.publish(t, a, b)
		c.Advance(refetchEvery)
		pub, err := keys.Key(ctx, "key-b")
		if err != nil {
			t.Fatal(err)
		}
		if !pub.Equal(&b.priv.PublicKey) {
			t.Fatal("wrong key")
		}
		if n := ks.fetches.Load(); n != 2 {
			t.Fatalf("fetches = %d, want 2", n)
		}
	})
	t.Run("unchanged document: conditional fetch, keys kept", func(t *testing.T) {
		c.Advance(refetchEvery)
		if _, err := keys.Key(ctx, "key-y"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("err = %v, want ErrUnknownKey (a 304 is not a failure)", err)
		}
		if n, nm := ks.fetches.Load(), ks.notModified.Load(); n != 3 || nm != 1 {
			t.Fatalf("fetches = %d, 304s = %d; want 3 and 1", n, nm)
		}
		if _, err := keys.Key(ctx, "key-b"); err != nil {
			t.Fatalf("key-b after a 304: %v", err)
		}
		ks.mu.Lock()
		ua := ks.userAgent
		ks.mu.Unlock()
		if !strings.HasPrefix(ua, "autho") {
			t.Errorf("User-Agent = %q, want autho's own", ua)
		}
	})
	t.Run("a withdrawn key is dropped", func(t *testing.T) {
		ks.publish(t, newSigningKey(t, "key-c"))
		c.Advance(refetchEvery)
		if _, err := keys.Key(ctx, "key-c"); err != nil {
			t.Fatal(err)
		}
		if _, err := keys.Key(ctx, "key-a"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("withdrawn key-a: err = %v, want ErrUnknownKey", err)
		}
	})
}

// An attacker choosing random key ids must not make us hammer the keys URL:
// 50 of them, concurrent, cost at most one fetch a minute.
func TestKeys_RefetchRateLimit(t *testing.T) {
	a := newSigningKey(t, "key-a")
	ks := newKeyServer(t, a)
	c := newClock()
	keys := newTestKeys(ks, c)
	ctx := context.Background()
	if _, err := keys.Key(ctx, "key-a"); err != nil {
		t.Fatal(err)
	}

	burst := func() {
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				id := "attacker-" + string(rune('A'+i%26)) + strings.Repeat("x", i)
				if _, err := keys.Key(ctx, id); !errors.Is(err, ErrUnknownKey) {
					t.Errorf("Key(%q) = %v, want ErrUnknownKey", id, err)
				}
			})
		}
		wg.Wait()
	}

	burst() // within the minute of the first fetch
	if n := ks.fetches.Load(); n != 1 {
		t.Fatalf("after a burst within the minute: fetches = %d, want 1", n)
	}
	c.Advance(refetchEvery)
	burst()
	if n := ks.fetches.Load(); n != 2 {
		t.Fatalf("after a burst a minute later: fetches = %d, want 2", n)
	}
	c.Advance(refetchEvery - time.Second)
	burst()
	if n := ks.fetches.Load(); n != 2 {
		t.Fatalf("after a burst 59 s later: fetches = %d, want 2", n)
	}
	if _, err := keys.Key(ctx, "key-a"); err != nil {
		t.Fatalf("known key after the bursts: %v", err)
	}
}

func TestKeys_FetchFailure(t *testing.T) {
	ctx := context.Background()

	t.Run("keeps the cached keys", func(t *testing.T) {
		a := newSigningKey(t, "key-a")
		ks := newKeyServer(t, a)
		c := newClock()
		keys := newTestKeys(ks, c)
		if _, err := keys.Key(ctx, "key-a"); err != nil {
			t.Fatal(err)
		}
		ks.serve(http.StatusInternalServerError, []byte(`{}`))
		c.Advance(refetchEvery)
		if _, err := keys.Key(ctx, "key-b"); !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("unknown id while GitHub fails: err = %v, want ErrKeysUnavailable", err)
		}
		if n := ks.fetches.Load(); n != 2 {
			t.Fatalf("fetches = %d, want 2", n)
		}
		if _, err := keys.Key(ctx, "key-a"); err != nil {
			t.Fatalf("cached key after a failed fetch: %v", err)
		}
		// A failed fetch counts against the limit too.
		if _, err := keys.Key(ctx, "key-b"); !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("err = %v, want ErrKeysUnavailable", err)
		}
		if n := ks.fetches.Load(); n != 2 {
			t.Fatalf("fetches = %d, want 2 (no retry within the minute)", n)
		}
	})

	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	doc := func(pems ...string) string {
		var d keysDoc
		for i, p := range pems {
			d.PublicKeys = append(d.PublicKeys, struct {
				KeyIdentifier string `json:"key_identifier"`
				Key           string `json:"key"`
				IsCurrent     bool   `json:"is_current"`
			}{"key-" + string(rune('a'+i)), p, true})
		}
		b, _ := json.Marshal(d)
		return string(b)
	}
	for _, tc := range []struct {
		name   string
		status int
		doc    string
	}{
		{"not 200", http.StatusNotFound, doc(pemOf(t, &newSigningKey(t, "x").priv.PublicKey))},
		{"not JSON", 200, "<html>"},
		{"no keys", 200, `{"public_keys":[]}`},
		{"P-384 only", 200, doc(pemOf(t, &p384.PublicKey))},
		{"RSA only", 200, doc(pemOf(t, &rsaKey.PublicKey))},
		{"not PEM", 200, doc("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")},
		// A usable key, but after a megabyte of padding.
		{"over 1 MiB", 200, `{"pad":"` + strings.Repeat("x", maxKeysDoc) + `",` + doc(pemOf(t, &newSigningKey(t, "x").priv.PublicKey))[1:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := newKeyServer(t)
			ks.serve(tc.status, []byte(tc.doc))
			keys := newTestKeys(ks, newClock())
			if _, err := keys.Key(ctx, "key-a"); !errors.Is(err, ErrKeysUnavailable) {
				t.Fatalf("err = %v, want ErrKeysUnavailable", err)
			}
		})
	}

	t.Run("unusable keys are skipped, not fatal", func(t *testing.T) {
		good := newSigningKey(t, "x")
		ks := newKeyServer(t)
		ks.serve(200, []byte(doc(pemOf(t, &p384.PublicKey), pemOf(t, &good.priv.PublicKey))))
		keys := newTestKeys(ks, newClock())
		if _, err := keys.Key(ctx, "key-b"); err != nil {
			t.Fatalf("P-256 key beside a P-384 one: %v", err)
		}
		if _, err := keys.Key(ctx, "key-a"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("P-384 key: err = %v, want ErrUnknownKey", err)
		}
	})
}
