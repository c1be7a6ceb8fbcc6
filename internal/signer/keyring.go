package signer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/secret"
)

// KeyStore is the part of autho.Store a Keyring uses.
type KeyStore interface {
	// AddSigningKey stores k and retires every other key not yet retired,
	// to be published until verifyUntil.
	AddSigningKey(ctx context.Context, k *autho.SigningKey, verifyUntil time.Time, entries ...autho.Entry) error
	SigningKeys(ctx context.Context) ([]*autho.SigningKey, error)
}

// ErrNoKey is returned by Sign when the keyring has no key to sign with.
var ErrNoKey = errors.New("no current signing key")

// RetireGrace is how long past TokenTTL a retired key stays published. A
// node signs with a retired key until it next refreshes (a few seconds), and
// node clocks differ; a minute covers both.
const RetireGrace = time.Minute

// DefaultRefreshInterval is the Run period servers should use: short enough
// that a rotation made anywhere is signed with everywhere within 5 seconds.
const DefaultRefreshInterval = 2 * time.Second

// The states KeyInfo reports.
const (
	StateSigning   = "signing"   // the keyring's current key
	StatePublished = "published" // in the JWKS: still verifies tokens
	StateRetired   = "retired"   // past its VerifyUntil: no token it signed is valid
)

// Options configure a Keyring.
type Options struct {
	// Algorithm is the one new keys get and the current key must have:
	// ES256, EdDSA, RS256 or HS256.
	Algorithm string
	// TokenTTL is the longest lifetime of a signed JWT. A retired key stays
	// published for TokenTTL + RetireGrace after it is replaced.
	TokenTTL time.Duration
	// RotateEvery, when positive, makes Run add a new key once the current
	// one is that old (AUTHO_KEY_ROTATION). Zero: Run never rotates on age.
	RotateEvery time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives Run's errors and the keys it adds; nil means
	// slog.Default(). Nothing logged carries key material.
	Logger *slog.Logger
}

// KeyInfo describes a stored key, for listing to operators.
type KeyInfo struct {
	ID          string    `json:"id"`
	Algorithm   string    `json:"algorithm"`
	CreatedAt   time.Time `json:"created_at"`
	RetiredAt   time.Time `json:"retired_at,omitzero"`
	VerifyUntil time.Time `json:"verify_until,omitzero"`
	State       string    `json:"state"` // StateSigning, StatePublished or StateRetired
}

// Keyring is what a server node holds of the signing keys. Sign, JWKS,
// VerificationKey and Keys read an immutable snapshot and never block on
// Refresh, which builds the next snapshot and swaps it in.
type Keyring struct {
	store       KeyStore
	sealer      *Sealer
	alg         string
	ttl         time.Duration
	rotateEvery time.Duration
	now         func() time.Time
	log         *slog.Logger

	snap atomic.Pointer[snapshot]

	// mu serializes Refresh from the store read to the swap, so an older
	// key list never replaces a newer snapshot; it also guards cache.
	mu sync.Mutex
	// cache holds the opened published keys by id: each key is decrypted
	// once in the life of the keyring, not on every refresh.
	cache map[string]*material

	lastAutoAdd atomic.Int64 // unix nanoseconds of Run's last added key
}

type snapshot struct {
	current   *material // nil: nothing to sign with
	createdAt time.Time // current's CreatedAt
	published map[string]published
	jwks      []byte
	keys      []KeyInfo // oldest first
}

type published struct {
	m     *material
	until time.Time // zero: no end yet
}

// NewKeyring returns an empty keyring; call EnsureKey (a server) or Refresh
// (a reader) before signing.
func NewKeyring(store KeyStore, sealer *Sealer, opt Options) (*Keyring, error) {
	if store == nil || sealer == nil {
		return nil, errors.New("signer: a store and a sealer are required")
	}
	if err := CheckAlgorithm(opt.Algorithm); err != nil {
		return nil, err
	}
	if opt.TokenTTL <= 0 {
		return nil, fmt.Errorf("token TTL must be positive, not %v", opt.TokenTTL)
	}
	if opt.RotateEvery < 0 {
		return nil, fmt.Errorf("key rotation period must not be negative, not %v", opt.RotateEvery)
	}
	k := &Keyring{
		store:       store,
		sealer:      sealer,
		alg:         opt.Algorithm,
		ttl:         opt.TokenTTL,
		rotateEvery: opt.RotateEvery,
		now:         opt.Now,
		log:         opt.Logger,
		cache:       map[string]*material{},
	}
	if k.now == nil {
		k.now = time.Now
	}
	if k.log == nil {
		k.log = slog.Default()
	}
	k.snap.Store(&snapshot{jwks: marshalJWKS(nil)})
	return k, nil
}

// Refresh reloads the keys from the store. Keys it has not seen before are
// decrypted and checked now, so that signing never has to.
//
// A key that cannot be opened (a wrong master key, a tampered row) is left
// out and reported in the error, but the others still take effect: one bad
// row must not freeze the keyring on a key another node has since retired.
func (k *Keyring) Refresh(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()

	keys, err := k.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("loading signing keys: %w", err)
	}
	// Every node must agree on the current key even when concurrent adds
	// left more than one unretired: order by CreatedAt, then id.
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b *autho.SigningKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})

	now := k.now()
	var current *autho.SigningKey
	for _, key := range keys {
		if key.RetiredAt.IsZero() && key.Algorithm == k.alg && isPublished(key, now) {
			current = key // the last such one is the newest
		}
	}

	s := &snapshot{published: map[string]published{}, keys: make([]KeyInfo, len(keys))}
	cache := make(map[string]*material, len(k.cache))
	var jwks []*jwk
	var errs []error
	for i := len(keys) - 1; i >= 0; i-- { // newest first, for the JWKS
		key := keys[i]
		state := StateRetired
		if isPublished(key, now) {
			m, err := k.open(key)
			if err != nil {
				errs = append(errs, err)
			} else {
				cache[key.ID] = m
				s.published[key.ID] = published{m: m, until: key.VerifyUntil}
				state = StatePublished
				if m.jwk != nil {
					jwks = append(jwks, m.jwk)
				}
				if key == current {
					s.current, s.createdAt = m, key.CreatedAt
					state = StateSigning
				}
			}
		}
		s.keys[i] = KeyInfo{
			ID:          key.ID,
			Algorithm:   key.Algorithm,
			CreatedAt:   key.CreatedAt,
			RetiredAt:   key.RetiredAt,
			VerifyUntil: key.VerifyUntil,
			State:       state,
		}
	}
	s.jwks = marshalJWKS(jwks)
	k.cache = cache // drops keys that are no longer published
	k.snap.Store(s)
	return errors.Join(errs...)
}

func (k *Keyring) open(key *autho.SigningKey) (*material, error) {
	if m, ok := k.cache[key.ID]; ok {
		return m, nil
	}
	return openKey(k.sealer, key)
}

func isPublished(key *autho.SigningKey, now time.Time) bool {
	return key.VerifyUntil.IsZero() || key.VerifyUntil.After(now)
}

// EnsureKey refreshes, and adds a key of the configured algorithm when there
// is no current one: on first start, or after AUTHO_JWT_ALG changed.
//
// Two nodes starting at once may both add a key; the store retires the older
// and every keyring, once refreshed, signs with the same one. If a stored
// key cannot be opened, EnsureKey fails rather than add a key: a node with a
// wrong master key must not retire the keys the other nodes sign with.
func (k *Keyring) EnsureKey(ctx context.Context) error {
	if err := k.Refresh(ctx); err != nil {
		return err
	}
	if k.snap.Load().current != nil {
		return nil
	}
	_, err := k.Rotate(ctx, autho.System)
	return err
}

// Rotate adds a new key of the configured algorithm, which this keyring signs
// with at once and every other keyring at its next refresh. The keys it
// replaces retire now and stay published for TokenTTL + RetireGrace, so
// every token they signed can still be verified until it expires. The
// rotation is audited, as by's, in the same transaction.
func (k *Keyring) Rotate(ctx context.Context, by autho.Actor) (*autho.SigningKey, error) {
	now := k.now()
	key, err := NewKey(k.alg, k.sealer, now)
	if err != nil {
		return nil, err
	}
	e := by.Audit(secret.NewID("aud"), autho.AuditSigningKeyRotate, now)
	e.TargetID, e.TargetName = key.ID, key.Algorithm
	ev := autho.NewEvent(secret.NewID("evt"), autho.EventSigningKeyRotated, now, "",
		autho.EventData{Key: &autho.EventKey{ID: key.ID, Algorithm: key.Algorithm}, By: e.ActorID}, nil)
	if err := k.store.AddSigningKey(ctx, key, now.Add(k.ttl+RetireGrace), e, ev); err != nil {
		return nil, fmt.Errorf("adding signing key: %w", err)
	}
	// The key is stored: even if this refresh fails, the caller gets it.
	if err := k.Refresh(ctx); err != nil {
		return key, err
	}
	return key, nil
}

// Run refreshes every period (DefaultRefreshInterval if not positive) until
// ctx is done, so that a key added elsewhere signs here within a period.
//
// When there is no current key of the configured algorithm (an operator
// rotated with another AUTHO_JWT_ALG), or it is older than RotateEvery, Run
// adds one, at most once a minute so that nodes configured with different
// algorithms cannot replace each other's keys in a tight loop.
func (k *Keyring) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultRefreshInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		k.tick(ctx)
	}
}

func (k *Keyring) tick(ctx context.Context) {
	if err := k.Refresh(ctx); err != nil {
		if ctx.Err() == nil {
			k.log.Error("refreshing signing keys", "err", err)
		}
		return
	}
	s := k.snap.Load()
	now := k.now()
	var reason string
	switch {
	case s.current == nil:
		reason = "no current key of the configured algorithm"
	case k.rotateEvery > 0 && now.Sub(s.createdAt) >= k.rotateEvery:
		reason = "scheduled rotation"
	default:
		return
	}
	if last := k.lastAutoAdd.Load(); last != 0 && now.Sub(time.Unix(0, last)) < time.Minute {
		return
	}
	k.lastAutoAdd.Store(now.UnixNano())
	key, err := k.Rotate(ctx, autho.System)
	if err != nil {
		k.log.Error("adding signing key", "reason", reason, "err", err)
		return
	}
	k.log.Info("added signing key", "reason", reason, "kid", key.ID, "alg", key.Algorithm)
}

// Sign returns c as a JWT signed with the current key, its id in "kid".
//
// c must live no longer than TokenTTL from its IssuedAt: a retired key is
// published for TokenTTL + RetireGrace only, so a longer-lived token would
// outlive the key that verifies it. (A token already expired when issued,
// as when an account ends this very second, is signed: it is useless, not
// dangerous, and refusing it would turn a login into an internal error.)
func (k *Keyring) Sign(c *bearer.Claims) (string, error) {
	m := k.snap.Load().current
	if m == nil {
		return "", fmt.Errorf("%w of algorithm %s", ErrNoKey, k.alg)
	}
	if life := c.ExpiresAt.Sub(c.IssuedAt.Time); life > k.ttl {
		return "", fmt.Errorf("token lifetime %v exceeds the token TTL %v", life, k.ttl)
	}
	t := jwt.NewWithClaims(m.method, c)
	t.Header["kid"] = m.id
	return t.SignedString(m.private)
}

// SignRevocations returns l, the revocation feed, as a JWT signed with the
// current key, its id in "kid" and bearer.RevocationsType in "typ", so that
// no verifier can take it for a login JWT (nor a login JWT for it).
func (k *Keyring) SignRevocations(l *bearer.RevocationList) (string, error) {
	m := k.snap.Load().current
	if m == nil {
		return "", fmt.Errorf("%w of algorithm %s", ErrNoKey, k.alg)
	}
	t := jwt.NewWithClaims(m.method, l)
	t.Header["kid"] = m.id
	t.Header["typ"] = bearer.RevocationsType
	return t.SignedString(m.private)
}

// JWKS returns the JWKS document of the published public keys, newest first
// (HS256 keys are never published). The slice is shared: do not modify it.
func (k *Keyring) JWKS() []byte { return k.snap.Load().jwks }

// VerificationKey returns the algorithm and key that verify tokens signed by
// the published key kid: a public key (*ecdsa.PublicKey, ed25519.PublicKey,
// *rsa.PublicKey) or, for HS256, the secret as a []byte, which is shared and
// must not be modified.
func (k *Keyring) VerificationKey(kid string) (alg string, key any, ok bool) {
	m := k.lookup(kid)
	if m == nil {
		return "", nil, false
	}
	return m.alg, m.public, true
}

// HS256Secret returns a copy of the secret of the published HS256 key kid,
// or of the current key when kid is "", for services that verify HS256
// tokens with a shared secret.
func (k *Keyring) HS256Secret(kid string) ([]byte, bool) {
	m := k.snap.Load().current
	if kid != "" {
		m = k.lookup(kid)
	}
	if m == nil || m.secret == nil {
		return nil, false
	}
	return slices.Clone(m.secret), true
}

// lookup finds a published key. The snapshot's list is as of the last
// refresh; the end of publication is checked against the clock as well, so
// a key stops verifying at VerifyUntil and not up to a period later.
func (k *Keyring) lookup(kid string) *material {
	p, ok := k.snap.Load().published[kid]
	if !ok || !p.until.IsZero() && !p.until.After(k.now()) {
		return nil
	}
	return p.m
}
