package bearer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fileKey is one key of a secret file as autho's export writes it.
type fileKey struct {
	kid    string
	secret string
	exp    time.Time
}

var (
	secretA = "secret-A-0123456789abcdef0123456789"
	secretB = "secret-B-0123456789abcdef0123456789"
	secretC = "secret-C-0123456789abcdef0123456789"
)

// writeFile replaces path with content as export-hs256 does: written
// beside it, then renamed into place.
func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func secretJWKSOf(t *testing.T, keys ...fileKey) []byte {
	t.Helper()
	var set []map[string]any
	for _, k := range keys {
		j := map[string]any{"kty": "oct", "kid": k.kid, "alg": "HS256", "k": seg([]byte(k.secret))}
		if !k.exp.IsZero() {
			j["exp"] = k.exp.Unix()
		}
		set = append(set, j)
	}
	return mustJSON(t, map[string]any{"keys": set})
}

// newTestSecretFile writes content to a new file and opens it, its clock
// at testNow unless clock is given.
func newTestSecretFile(t *testing.T, content []byte, clock *atomic.Int64) (*SecretFile, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hs256.jwks")
	writeFile(t, path, content)
	f, err := NewSecretFile(path)
	if err != nil {
		t.Fatalf("NewSecretFile: %v", err)
	}
	if clock != nil {
		f.now = func() time.Time { return time.Unix(0, clock.Load()) }
	} else {
		f.now = func() time.Time { return testNow }
	}
	return f, path
}

func hsToken(t *testing.T, kid, secret string) string {
	t.Helper()
	h := map[string]any{"alg": HS256, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	return mustSignRaw(t, HS256, []byte(secret), mustJSON(t, h), mustJSON(t, goodClaims()))
}

func hsVerify(t *testing.T, f *SecretFile, token string) error {
	t.Helper()
	_, err := mustVerifier(t, Config{Keys: f, Algorithms: []string{HS256}}).Verify(context.Background(), token)
	return err
}

func TestSecretFile_Key(t *testing.T) {
	jwks := secretJWKSOf(t,
		fileKey{kid: "key_b", secret: secretB},
		fileKey{kid: "key_a", secret: secretA, exp: testNow.Add(time.Hour)},
		fileKey{kid: "key_old", secret: secretC, exp: testNow},
	)
	for _, tc := range []struct {
		name, file, kid, secret string
		want                    string // "" accepted, else the refusal's reason
	}{
		{"current key", string(jwks), "key_b", secretB, ""},
		{"replaced key before its exp", string(jwks), "key_a", secretA, ""},
		{"replaced key at its exp", string(jwks), "key_old", secretC, "past its exp"},
		{"kid not in the file", string(jwks), "key_x", secretB, "no key with that kid"},
		{"no kid", string(jwks), "", secretB, "token has no kid"},
		{"another key's secret", string(jwks), "key_a", secretB, "signature"},
		{"old format, any kid", secretA, "key_whatever", secretA, ""},
		{"old format, no kid", secretA, "", secretA, ""},
		{"old format, wrong secret", secretA, "key_a", secretB, "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := newTestSecretFile(t, []byte(tc.file), nil)
			err := hsVerify(t, f, hsToken(t, tc.kid, tc.secret))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantRefused(t, nil, err, tc.want)
		})
	}
}

func TestNewSecretFile_refuses(t *testing.T) {
	key := func(edit map[string]any) string {
		j := map[string]any{"kty": "oct", "kid": "key_a", "alg": "HS256", "k": seg([]byte(secretA))}
		for k, v := range edit {
			if v == nil {
				delete(j, k)
			} else {
				j[k] = v
			}
		}
		return `{"keys":[` + string(mustJSON(t, j)) + `]}`
	}
	for _, tc := range []struct{ name, file, want string }{
		{"short raw secret", "too short", "at least 32 bytes"},
		{"empty", "", "at least 32 bytes"},
		{"not a JWK set", `{"keys":{"kid":"key_a"}}`, "not a JWK set"},
		{"no keys", `{"keys":[]}`, "holds no key"},
		{"no kid", key(map[string]any{"kid": nil}), "has no kid"},
		{"not oct", key(map[string]any{"kty": "EC"}), "not an HS256 signing key"},
		{"another alg", key(map[string]any{"alg": "RS256"}), "not an HS256 signing key"},
		{"encryption key", key(map[string]any{"use": "enc"}), "not an HS256 signing key"},
		{"short k", key(map[string]any{"k": seg([]byte("short"))}), "at least 32 bytes"},
		{"k not base64url", key(map[string]any{"k": "+/" + seg([]byte(secretA))}), "base64url"},
		{"kid twice", `{"keys":[` + strings.Repeat(string(mustJSON(t, map[string]any{"kty": "oct", "kid": "key_a", "k": seg([]byte(secretA))}))+",", 2) + `{"kty":"oct","kid":"key_b","k":"` + seg([]byte(secretB)) + `"}]}`, "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hs256.jwks")
			writeFile(t, path, []byte(tc.file))
			_, err := NewSecretFile(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err %v, want one naming the file and saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secretA) || strings.Contains(err.Error(), seg([]byte(secretA))) {
				t.Fatalf("the error repeats the secret: %v", err)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		if _, err := NewSecretFile(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err %v, want not-exist", err)
		}
	})
}

// TestSecretFile_Reload: a new file takes effect on Reload, a dropped key
// stops verifying, and a bad file leaves the last good one in use.
func TestSecretFile_Reload(t *testing.T) {
	f, path := newTestSecretFile(t, secretJWKSOf(t, fileKey{kid: "key_a", secret: secretA}), nil)
	a, b := hsToken(t, "key_a", secretA), hsToken(t, "key_b", secretB)

	writeFile(t, path, secretJWKSOf(t, fileKey{kid: "key_b", secret: secretB}))
	if err := f.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := hsVerify(t, f, b); err != nil {
		t.Fatalf("new key refused after Reload: %v", err)
	}
	wantRefused(t, nil, hsVerify(t, f, a), "no key with that kid")

	for _, bad := range []string{"garbage", `{"keys":[]}`} {
		writeFile(t, path, []byte(bad))
		if err := f.Reload(); err == nil {
			t.Fatalf("Reload of %q: no error", bad)
		}
		if err := hsVerify(t, f, b); err != nil {
			t.Fatalf("after a bad file (%q), the last good key is refused: %v", bad, err)
		}
	}
	os.Remove(path)
	if err := f.Reload(); err == nil {
		t.Fatal("Reload of a missing file: no error")
	}
	if err := hsVerify(t, f, b); err != nil {
		t.Fatalf("after the file went, the last good key is refused: %v", err)
	}
}

// TestSecretFile_UnknownKID: a kid the file did not hold when last read
// makes it read again at once, but not more than once a second.
func TestSecretFile_UnknownKID(t *testing.T) {
	var clock atomic.Int64
	clock.Store(testNow.UnixNano())
	f, path := newTestSecretFile(t, secretJWKSOf(t, fileKey{kid: "key_a", secret: secretA}), &clock)
	clock.Add(int64(2 * unknownSecretReload))

	writeFile(t, path, secretJWKSOf(t, fileKey{kid: "key_b", secret: secretB}, fileKey{kid: "key_a", secret: secretA}))
	if err := hsVerify(t, f, hsToken(t, "key_b", secretB)); err != nil {
		t.Fatalf("a kid exported since the last read is refused: %v", err)
	}
	writeFile(t, path, secretJWKSOf(t, fileKey{kid: "key_c", secret: secretC}, fileKey{kid: "key_b", secret: secretB}))
	c := hsToken(t, "key_c", secretC)
	wantRefused(t, nil, hsVerify(t, f, c), "no key with that kid")
	clock.Add(int64(unknownSecretReload))
	if err := hsVerify(t, f, c); err != nil {
		t.Fatalf("a second later, the kid is still refused: %v", err)
	}
}

// TestSecretFile_Run re-reads the file every period, and reports a bad file
// while keeping the last good secrets.
func TestSecretFile_Run(t *testing.T) {
	f, path := newTestSecretFile(t, secretJWKSOf(t, fileKey{kid: "key_a", secret: secretA}), nil)
	errs := make(chan error, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx, 5*time.Millisecond, func(err error) { errs <- err }) }()
	defer func() { cancel(); <-done }()

	// The old format has no kid to prompt a re-read: only Run picks it up.
	writeFile(t, path, []byte(secretB))
	b := hsToken(t, "key_a", secretB)
	deadline := time.Now().Add(5 * time.Second)
	for hsVerify(t, f, b) != nil {
		if time.Now().After(deadline) {
			t.Fatal("Run did not pick up the new file")
		}
		time.Sleep(5 * time.Millisecond)
	}
	writeFile(t, path, []byte("short"))
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), path) {
			t.Errorf("reported %v, want the file named", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not report the bad file")
	}
	if err := hsVerify(t, f, b); err != nil {
		t.Fatalf("after a bad file, the last good secret is refused: %v", err)
	}
}
