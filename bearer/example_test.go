package bearer_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/autho/autho/bearer"
	"github.com/golang-jwt/jwt/v5"
)

// Middleware lets a request with a valid bearer through, with its identity in
// the context, and answers the others itself. This example uses an HS256
// shared secret so that it can mint its own token.
func ExampleVerifier_Middleware() {
	secret := []byte("an example secret of at least 32 bytes")
	v, err := bearer.New(bearer.Config{
		Issuer:     "https://auth.example.com",
		Audience:   "autho",
		Keys:       bearer.StaticSecret(secret),
		Algorithms: []string{bearer.HS256},
	})
	if err != nil {
		log.Fatal(err)
	}
	hello := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := bearer.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s of %s, scopes %v", id.UserID, id.AccountID, id.Scopes)
	}))

	// What autho's login endpoint would return.
	now := time.Now()
	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "https://auth.example.com", "aud": "autho",
		"sub": "usr_1", "acc": "acc_1", "tok": "tok_1", "scope": "orders:read",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}).SignedString(secret)

	for _, auth := range []string{"Bearer " + token, "", "Bearer not-a-jwt"} {
		r := httptest.NewRequest("GET", "/hello", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		hello.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 hello usr_1 of acc_1, scopes [orders:read]
	// 401 {"data":{"message":"Authentication credentials were not provided."},"meta":{},"result":"15","status":"ERROR"}
	// 401 {"data":{"message":"Invalid or expired token"},"meta":{},"result":"16","status":"ERROR"}
}

// NewSecretFile verifies the tokens of an autho deployment that signs with
// HS256, from the file "autho keys export-hs256 --force --out FILE" writes
// after every rotation. Run re-reads it every 30 s (call Reload on SIGHUP
// too), so the service picks each new file up without a restart; a bad
// file keeps the last good one.
func ExampleNewSecretFile() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "autho-hs256.jwks")
	secret := []byte("an example secret of at least 32 bytes")
	// What export-hs256 writes, with one key.
	os.WriteFile(file, []byte(`{"keys":[{"kty":"oct","use":"sig","alg":"HS256","kid":"key_1","k":"`+
		base64.RawURLEncoding.EncodeToString(secret)+`"}]}`), 0o600)

	keys, err := bearer.NewSecretFile(file)
	if err != nil {
		log.Fatal(err) // missing or bad at start-up: refuse to start
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go keys.Run(ctx, 0, nil)
	v, err := bearer.New(bearer.Config{
		Issuer:     "https://auth.example.com",
		Audience:   "autho",
		Keys:       keys,
		Algorithms: []string{bearer.HS256},
	})
	if err != nil {
		log.Fatal(err)
	}

	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "https://auth.example.com", "aud": "autho",
		"sub": "usr_1", "acc": "acc_1", "tok": "tok_1",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	t.Header["kid"] = "key_1"
	token, _ := t.SignedString(secret)
	id, err := v.Verify(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.UserID)
	// Output:
	// usr_1
}
