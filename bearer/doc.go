// Package bearer lets a Go service accept or refuse the JWTs autho issues,
// and tells its handlers who the caller is.
//
// A partner's software exchanges its API token for a JWT at autho and then
// calls the platform's other APIs with "Authorization: Bearer <JWT>". Such an
// API wraps its handlers with a Verifier:
//
//	keys := bearer.NewJWKS("https://auth.example.com/.well-known/jwks.json", bearer.JWKSOptions{})
//	// Fail at start-up, not at the first request, if the URL is wrong.
//	if err := keys.Refresh(ctx); err != nil {
//		log.Fatal(err)
//	}
//	v, err := bearer.New(bearer.Config{
//		Issuer:   "https://auth.example.com",
//		Audience: "autho",
//		Keys:     keys,
//	})
//	...
//	mux.Handle("GET /orders/", v.Middleware(orders))
//	mux.Handle("POST /orders/", v.Middleware(bearer.RequireScope("orders:write", createOrder)))
//
// and reads the caller in the handler with FromContext. A refused request
// gets 401 with a WWW-Authenticate challenge and autho's envelope (result 15
// when no bearer was sent, 16 for any refused one); the precise reason goes
// only to Config.OnError, never to the client.
//
// # What is checked
//
// Before anything is decoded, the token must be at most MaxTokenBytes (8 KB)
// and have the JWS compact shape: three base64url segments, nothing else.
// The header must not carry jku, x5u, jwk, x5c (a token may not choose its
// own key) or crit, and neither the header nor the claims may name a member
// twice, even in two letter cases ("sub" and "SUB"), which parsers read
// differently. An ES256 signature must have the low s, the one autho
// writes: its malleated twin (r, n−s) would be a second string for the same
// JWT. The key is looked up by kid, and the key source says which single
// algorithm that key is for: the header's alg must be exactly that one and
// be listed in Config.Algorithms, so "none" and a public key reused as an
// HS256 secret are both refused. Then golang-jwt checks the signature, and
// exp (required), nbf, iat, iss and aud with at most 60 s of leeway. sub,
// acc and tok must be present.
//
// # Keys
//
// NewJWKS fetches autho's JWKS document, caches it for its Cache-Control
// max-age (between 1 minute and 1 hour), refreshes it in the background, and
// serves the cached keys when a refresh fails. An unknown kid triggers a
// refetch at most once every 10 seconds, which is how a key rotated in by
// autho is picked up without a restart while a flood of made-up kids costs
// autho almost nothing. The price: a Verifier that fetched the JWKS less
// than 10 seconds before a rotation refuses tokens signed with the new key
// until those 10 seconds are over. A deployment that signs with HS256 lists
// HS256 in Config.Algorithms and uses NewSecretFile on the file "autho keys
// export-hs256" writes (every secret still in use, by kid), which it
// re-reads on Reload, every 30 seconds under Run, and when a token names a
// kid it lacks; or StaticSecret, for one secret that never changes. Any other
// KeySource (autho itself uses one that reads its own key store) works the
// same way.
//
// # Strict mode and its trade-off
//
// A JWT is a promise valid until its exp (24 hours by default). Verified
// locally, as above, it keeps being accepted until then even if its API token
// is revoked, its user deactivated or its account suspended: verification
// costs no network round trip and keeps working while autho is down, but
// revocation takes effect only at exp.
//
// Setting Config.Introspection turns on strict mode: a token that verified
// locally is also checked with autho's introspection endpoint, and the answer
// is cached per token for CacheTTL (5 s by default). A revocation then takes
// effect within CacheTTL, at the cost of one request to autho per token per
// CacheTTL, and of availability: strict mode fails closed, so while autho
// cannot be reached (or gives no definite answer) a bearer that is otherwise
// valid is refused with ErrUnavailable, which Middleware answers 503, result
// 14, with Retry-After, rather than 401 16: the token may well be good, and
// the client should retry rather than throw it away. The verifier then logs
// a warning on Config.Logger at most once every 10 s. Only a definite
// {"active": false} is ErrInvalidToken.
//
// # Revocation feed
//
// Setting Config.Revocations closes the same gap without a request to
// autho per token. The verifier polls autho's revocation feed
// (GET /v1/autho/revocations, every 5 s by default) in one background
// goroutine, and refuses with ErrInvalidToken a JWT whose tok, sub or acc
// the feed lists, if the JWT was issued before the entry's not_before: a
// revoked API token's JWTs for ever, a deactivated user's or suspended
// account's only those issued before the change, so that a login after a
// reactivation works again.
//
// What it costs: one small request per Every, answered 304 while nothing
// changes, and the list in memory, which stays short because an entry leaves
// the feed once every JWT it could refuse has expired (the document is
// refused above 16 MiB). Per request it adds an atomic load and three map
// lookups, no allocation and no lock. What it guarantees: a revocation
// reaches the verifier within Every plus the time autho takes to rebuild the
// feed. The feed is a JWT signed with the login keys, verified as a login
// JWT is (same KeySource and Algorithms, iss, exp, iat) but with its own
// typ, so neither can pass for the other. A document that fails
// verification, or a failed fetch, leaves the last good copy in use, with a
// warning at most once every 10 s; a document issued before the copy held is
// not taken, so that a replayed or lagging one cannot bring a revoked token
// back. Without a copy, the verifier fails closed, as strict mode does: the
// first requests wait for the first fetch, and once the last contact with
// autho is older than MaxAge (10 min by default) every otherwise valid JWT
// gets ErrUnavailable, 503 14 with Retry-After. MaxAge is thus how long
// autho may be out of reach before the service stops accepting tokens; it is
// also the longest a revocation can go unseen while a fetch keeps failing.
//
// A Verifier with Revocations must be closed (Verifier.Close) when it is
// no longer used, to stop the poller.
package bearer
