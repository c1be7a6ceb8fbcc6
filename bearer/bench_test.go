package bearer

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkVerify measures the whole local verify path Middleware runs per
// request: shape checks, header parse, key lookup, signature, claims. The
// "feed" variants add the revocation feed's check, with a copy of 10,000
// entries none of which matches, side by side with the plain ones: the
// check must cost nothing measurable and allocate nothing.
func BenchmarkVerify(b *testing.B) {
	k := mustKeys(b)
	keys := standardKeys(k)
	keys["hs"] = verifyKey{HS256, k.secret}
	algs := []string{ES256, EdDSA, RS256, HS256}
	plain := mustVerifier(b, Config{Keys: keys, Algorithms: algs})
	feed := benchFeedServer(b, 10000)
	withFeed := mustVerifier(b, Config{Keys: keys, Algorithms: algs,
		// Polled once: the benchmark measures requests, not polls.
		Revocations: &RevocationsConfig{URL: feed.URL, Every: time.Hour, MaxAge: 2 * time.Hour}})
	for _, tc := range []struct{ alg, kid string }{{ES256, "es"}, {EdDSA, "ed"}, {HS256, "hs"}, {RS256, "rs"}} {
		token := mustSign(b, tc.alg, tc.kid, goodClaims())
		for _, vc := range []struct {
			name string
			v    *Verifier
		}{{tc.alg, plain}, {tc.alg + "/feed", withFeed}} {
			b.Run(vc.name, func(b *testing.B) {
				b.ReportAllocs()
				ctx := context.Background()
				if _, err := vc.v.Verify(ctx, token); err != nil { // and the first fetch is done
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := vc.v.Verify(ctx, token); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	if n := len(withFeed.feed.held.Load().tokens) + len(withFeed.feed.held.Load().users) + len(withFeed.feed.held.Load().accounts); n != 10000 {
		b.Fatalf("the feed's copy holds %d entries, want 10000", n)
	}
}

// benchFeedServer serves a feed of n entries, of each kind in turn, none
// naming goodClaims' ids.
func benchFeedServer(b *testing.B, n int) *httptest.Server {
	kinds := []string{RevokedToken, RevokedUser, RevokedAccount}
	entries := make([]Revocation, n)
	for i := range entries {
		entries[i] = Revocation{Kind: kinds[i%3], ID: fmt.Sprintf("id_%08d", i), NotBefore: RevokedForever}
	}
	doc := mustSignFeed(b, ES256, "es", RevocationsType, feedClaims(testNow, entries))
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwt")
		w.Write([]byte(doc))
	}))
	b.Cleanup(s.Close)
	return s
}

// BenchmarkFeedCheck is the feed's check alone, what the feed adds to each
// request: against a copy of 10,000 entries, for a JWT none of them names
// and for one the first map refuses.
func BenchmarkFeedCheck(b *testing.B) {
	feed := benchFeedServer(b, 10000)
	v := mustVerifier(b, Config{Keys: standardKeys(mustKeys(b)),
		Revocations: &RevocationsConfig{URL: feed.URL, Every: time.Hour, MaxAge: 2 * time.Hour}})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		c    *Claims
		want error
	}{
		{"pass", &Claims{Subject: "usr_1", Account: "acc_1", Token: "tok_1", IssuedAt: NumericDate{testNow}}, nil},
		{"revoked", &Claims{Subject: "usr_1", Account: "acc_1", Token: "id_00000000", IssuedAt: NumericDate{testNow}}, errRevoked},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			if err := v.feed.check(ctx, tc.c); err != tc.want {
				b.Fatalf("check: %v, want %v", err, tc.want)
			}
			for b.Loop() {
				v.feed.check(ctx, tc.c)
			}
		})
	}
}
