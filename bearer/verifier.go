package bearer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Config says which tokens a Verifier accepts.
type Config struct {
	// Issuer must equal the token's "iss" (autho's AUTHO_ISSUER). Required.
	Issuer string
	// Audience must be one of the token's "aud" (AUTHO_AUDIENCE, "autho"
	// by default). Required.
	Audience string
	// Keys finds the verification key and its one algorithm. Required: a
	// *JWKS, StaticSecret, or your own.
	Keys KeySource

	// Algorithms the verifier accepts at all; a token must name one of these
	// AND the algorithm its key is for. Default ES256, EdDSA, RS256: HS256
	// only when listed.
	Algorithms []string
	// Leeway tolerates clock skew on exp, nbf and iat. Zero means 30 s; more
	// than 60 s is refused, because leeway extends every token's life.
	Leeway time.Duration
	// MaxTokenBytes bounds the token before anything is decoded. Zero means
	// 8192; at most 65536.
	MaxTokenBytes int

	// Introspection, if set, turns on strict mode: each token that verifies
	// locally is also checked with autho's introspection endpoint, so a
	// revoked API token, deactivated user or suspended account stops being
	// accepted within CacheTTL instead of at the JWT's exp.
	Introspection *IntrospectionConfig

	// Revocations, if set, polls autho's revocation feed in the background
	// and refuses a JWT of a revoked API token, deactivated user or
	// suspended account within about Every, with no request to autho per
	// token. A Verifier with Revocations runs a goroutine: Close it.
	Revocations *RevocationsConfig

	// OnError, if set, is called with every refusal Middleware makes (an
	// *Error), so the service can log the reason the client is not told.
	OnError func(r *http.Request, err error)

	// Logger receives strict mode's warning that introspection cannot be
	// reached and the feed's that it could not be fetched or verified, each
	// at most one every 10 s; slog.Default() when nil. Its lines never hold
	// a token or the introspection secret.
	Logger *slog.Logger

	// Now is the clock; time.Now by default. For tests.
	Now func() time.Time
}

const (
	defaultLeeway   = 30 * time.Second
	maxLeeway       = 60 * time.Second
	defaultMaxBytes = 8192
	maxMaxBytes     = 64 << 10
)

// Verifier checks autho's bearer JWTs. It is safe for concurrent use.
type Verifier struct {
	keys       KeySource
	algs       []string
	maxBytes   int
	parsers    map[string]*jwt.Parser // one per algorithm, each pinned to it
	introspect *introspector
	feed       *feed // nil without Config.Revocations
	onError    func(*http.Request, error)
}

// New checks cfg and returns a Verifier. Every mistake in cfg is an error
// here rather than a refusal of every request later.
func New(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("bearer: Config.Issuer is required")
	}
	if cfg.Audience == "" {
		return nil, errors.New("bearer: Config.Audience is required")
	}
	if cfg.Keys == nil {
		return nil, errors.New("bearer: Config.Keys is required")
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = defaultAlgorithms
	}
	for _, a := range algs {
		if !supported(a) {
			return nil, fmt.Errorf("bearer: algorithm %q is not supported (ES256, EdDSA, RS256, HS256)", a)
		}
	}
	algs = slices.Clone(algs)
	if s, ok := cfg.Keys.(staticSecret); ok {
		if !slices.Contains(algs, HS256) {
			return nil, errors.New("bearer: StaticSecret needs Config.Algorithms to list HS256")
		}
		if len(s.secret) < minSecretBytes {
			return nil, fmt.Errorf("bearer: the HS256 secret must be at least %d bytes", minSecretBytes)
		}
	}
	leeway := cfg.Leeway
	switch {
	case leeway == 0:
		leeway = defaultLeeway
	case leeway < 0 || leeway > maxLeeway:
		return nil, fmt.Errorf("bearer: Config.Leeway must be between 0 and %v", maxLeeway)
	}
	maxBytes := cfg.MaxTokenBytes
	switch {
	case maxBytes == 0:
		maxBytes = defaultMaxBytes
	case maxBytes < 0 || maxBytes > maxMaxBytes:
		return nil, fmt.Errorf("bearer: Config.MaxTokenBytes must be between 0 and %d", maxMaxBytes)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}

	v := &Verifier{
		keys:     cfg.Keys,
		algs:     algs,
		maxBytes: maxBytes,
		parsers:  make(map[string]*jwt.Parser, len(algs)),
		onError:  cfg.OnError,
	}
	for _, a := range algs {
		v.parsers[a] = jwt.NewParser(
			jwt.WithValidMethods([]string{a}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithStrictDecoding(),
			jwt.WithTimeFunc(now),
		)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Introspection != nil {
		in, err := newIntrospector(*cfg.Introspection, now, log)
		if err != nil {
			return nil, err
		}
		v.introspect = in
	}
	if cfg.Revocations != nil {
		// Checked before anything starts, so that a mistake leaves no
		// goroutine behind.
		f, err := newFeed(*cfg.Revocations, v, cfg.Issuer, leeway, now, log)
		if err != nil {
			return nil, err
		}
		v.feed = f
		f.start()
	}
	return v, nil
}

// Close stops the polling of the revocation feed and waits until it has
// stopped. A Verifier configured with Revocations must be closed when it is
// no longer used, or its goroutine runs for ever; Close on any other
// Verifier, or a second time, does nothing. After Close the last copy of
// the feed stays in use until it is older than MaxAge.
func (v *Verifier) Close() error {
	if v.feed != nil {
		v.feed.close()
	}
	return nil
}

// Verify checks token (the part after "Bearer ") and returns who it speaks
// for. A refusal is an *Error of kind ErrInvalidToken.
func (v *Verifier) Verify(ctx context.Context, token string) (*Identity, error) {
	c, err := v.VerifyClaims(ctx, token)
	if err != nil {
		return nil, err
	}
	return c.Identity(), nil
}

// VerifyClaims checks token as Verify does and returns all its claims, for
// a caller that repeats them (autho's introspection answer).
//
// The cheap structural checks run first, on the raw string, so hostile input
// is refused before any base64 or JSON decoding and before any key lookup
// (which may cost a JWKS fetch); then the header and the claims must each be
// one JSON object naming each member once, and an ES256 signature must be
// the low-s one. golang-jwt then does the signature and the registered
// claims.
func (v *Verifier) VerifyClaims(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, errEmpty
	}
	if len(token) > v.maxBytes {
		return nil, errTooLarge
	}
	headerEnd, ok := compact(token)
	if !ok {
		return nil, errNotCompact
	}
	h, err := parseHeader(token[:headerEnd])
	if err != nil {
		return nil, err
	}
	if err := loginTyp(h); err != nil {
		return nil, err
	}
	keyAlg, key, err := v.signedBy(ctx, token, headerEnd, h)
	if err != nil {
		return nil, err
	}

	c := new(Claims)
	_, err = v.parsers[keyAlg].ParseWithClaims(token, c, func(*jwt.Token) (any, error) { return key, nil })
	if err != nil {
		return nil, invalid(jwtReason(err), err)
	}

	if v.feed != nil {
		// Before introspection: a JWT the feed already refuses costs
		// autho no request.
		if err := v.feed.check(ctx, c); err != nil {
			return nil, err
		}
	}

	if v.introspect != nil {
		active, err := v.introspect.active(ctx, token, c.ID)
		if err != nil {
			// No answer is not "inactive": the token may be good, so the
			// client is told to retry (503), not to log in again (401).
			if ctx.Err() == nil {
				v.introspect.unreachable(err)
			}
			return nil, unavailable("introspection failed (strict mode fails closed)", err)
		}
		if !active {
			return nil, errInactive
		}
	}
	return c, nil
}

// signedBy makes the checks a login JWT and the revocation feed share,
// before golang-jwt's: alg, the ES256 low s, the claims' shape, and the key
// kid names, pinned to one algorithm. token's header, ending at headerEnd,
// has been parsed into h.
func (v *Verifier) signedBy(ctx context.Context, token string, headerEnd int, h header) (string, any, error) {
	if strings.EqualFold(h.alg, "none") {
		return "", nil, errAlgNone
	}
	if !slices.Contains(v.algs, h.alg) {
		return "", nil, errAlgNotAllow
	}
	sigStart := strings.LastIndexByte(token, '.') + 1
	if h.alg == ES256 && highS(token[sigStart:]) {
		return "", nil, errHighS
	}
	if _, ok := objectSegment(token[headerEnd+1 : sigStart-1]); !ok {
		return "", nil, errBadClaims
	}
	keyAlg, key, err := v.keys.Key(ctx, h.kid)
	if err != nil {
		return "", nil, invalid("key lookup failed", err)
	}
	if keyAlg != h.alg {
		return "", nil, errAlgMismatch
	}
	if err := checkKey(keyAlg, key); err != nil {
		return "", nil, invalid("unusable key", err)
	}
	return keyAlg, key, nil
}

// jwtReason names the first check golang-jwt reports as failed.
func jwtReason(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{jwt.ErrTokenSignatureInvalid, "bad signature"},
		{jwt.ErrTokenMalformed, "malformed token"},
		{jwt.ErrTokenRequiredClaimMissing, "required claim missing"},
		{jwt.ErrTokenExpired, "expired"},
		{jwt.ErrTokenNotValidYet, "not valid yet (nbf)"},
		{jwt.ErrTokenUsedBeforeIssued, "issued in the future (iat)"},
		{jwt.ErrTokenInvalidIssuer, "wrong issuer"},
		{jwt.ErrTokenInvalidAudience, "wrong audience"},
		{errMissingIdentity, "sub, acc or tok missing"},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "invalid token"
}
