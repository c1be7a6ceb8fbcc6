// Package revocation builds autho's revocation feed: the signed list of API
// tokens revoked, users deactivated and accounts suspended or ended, which
// lets a verifier that checks JWTs by their signature alone (package bearer,
// autho gateway) refuse them within seconds instead of at their exp.
//
// Every node keeps the signed document in memory and serves it as is, so a
// request never reaches the database and never signs anything. The node
// asks the store for RevocationVersion every few hundred milliseconds (one
// row), and reads the facts and signs a new document only when that number
// moved, or once a minute so that the document's exp stays ahead and
// entries of changes no JWT can outlive any more drop out.
package revocation

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
)

// Source is what the feed reads: autho.Store's two revocation methods.
type Source interface {
	RevocationVersion(ctx context.Context) (int64, error)
	Revocations(ctx context.Context, since, now time.Time) ([]autho.Revocation, error)
}

// Signer signs the document: signer.Keyring.
type Signer interface {
	SignRevocations(l *bearer.RevocationList) (string, error)
}

const (
	// Lifetime is the document's exp after its iat. A verifier refuses a
	// document past its exp, so a copy replayed by someone in between can
	// hide a revocation for at most this long.
	Lifetime = 5 * time.Minute
	// ResignEvery is how often a document is signed anew even when
	// nothing changed: well inside Lifetime, so the one a verifier fetches
	// is never close to its exp.
	ResignEvery = time.Minute
	// DefaultPoll is how often RevocationVersion is asked.
	DefaultPoll = 250 * time.Millisecond
	// margin is added to the longest JWT lifetime: bearer's largest
	// leeway (60 s) and as much again for the clocks of the nodes that
	// stamped the changes.
	margin = 2 * time.Minute
)

// Window is how long after a change its entry stays listed, for JWTs
// living ttl (AUTHO_TOKEN_TTL): by then every JWT it could refuse has
// expired, even to a verifier allowing the most leeway.
func Window(ttl time.Duration) time.Duration { return ttl + margin }

// Document is one signed feed, as served.
type Document struct {
	Body []byte // the compact JWT
	ETag string // a strong validator of Body, quoted
	// Gzip is Body compressed, for the clients that accept it (Go's
	// http.Client does unasked): base64 of ids shrinks about five times,
	// and at 10,000 entries Body is a megabyte. GzipETag is its own
	// validator, as a different representation needs.
	Gzip     []byte
	GzipETag string
	Entries  int
	SignedAt time.Time
	Took     time.Duration // reading the facts and signing them

	version int64 // RevocationVersion the facts were read at or after
}

// Feed keeps the current Document. It is safe for concurrent use.
type Feed struct {
	src    Source
	sign   Signer
	issuer string
	window time.Duration
	now    func() time.Time
	log    *slog.Logger

	cur   atomic.Pointer[Document]
	build sync.Mutex // one build at a time
}

// Config configures a Feed.
type Config struct {
	Issuer string        // the documents' iss: AUTHO_ISSUER
	Window time.Duration // see Window; required
	Now    func() time.Time
	Logger *slog.Logger
}

// New returns a Feed with no document yet: call Refresh, then Run.
func New(src Source, sign Signer, cfg Config) (*Feed, error) {
	if cfg.Issuer == "" || cfg.Window <= 0 {
		return nil, errors.New("revocation: Issuer and Window are required")
	}
	f := &Feed{src: src, sign: sign, issuer: cfg.Issuer, window: cfg.Window, now: cfg.Now, log: cfg.Logger}
	if f.now == nil {
		f.now = time.Now
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	return f, nil
}

// Current is the document to serve, nil until the first build succeeds.
func (f *Feed) Current() *Document { return f.cur.Load() }

// Refresh builds a new document when the store's version moved since the
// current one was read, or the current one is ResignEvery old, and reports
// whether it did.
func (f *Feed) Refresh(ctx context.Context) (bool, error) {
	f.build.Lock()
	defer f.build.Unlock()
	v, err := f.src.RevocationVersion(ctx)
	if err != nil {
		return false, fmt.Errorf("revocation feed: read version: %w", err)
	}
	now := f.now()
	if d := f.cur.Load(); d != nil && d.version == v && now.Sub(d.SignedAt) < ResignEvery {
		return false, nil
	}
	// The version is read before the facts: a change committed in between
	// is in this document and moves the version again, which costs one
	// more build, never a missed change.
	facts, err := f.src.Revocations(ctx, now.Add(-f.window), now)
	if err != nil {
		return false, fmt.Errorf("revocation feed: read revocations: %w", err)
	}
	entries := Entries(facts)
	iat := now.Truncate(time.Second)
	body, err := f.sign.SignRevocations(&bearer.RevocationList{
		Issuer:    f.issuer,
		IssuedAt:  bearer.NumericDate{Time: iat},
		ExpiresAt: bearer.NumericDate{Time: iat.Add(Lifetime)},
		Revoked:   entries,
	})
	if err != nil {
		return false, fmt.Errorf("revocation feed: sign: %w", err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(body)) // a bytes.Buffer does not fail
	zw.Close()
	sum := sha256.Sum256([]byte(body))
	tag := base64.RawURLEncoding.EncodeToString(sum[:18])
	f.cur.Store(&Document{
		Body:     []byte(body),
		ETag:     `"` + tag + `"`,
		Gzip:     gz.Bytes(),
		GzipETag: `"` + tag + `-gzip"`,
		Entries:  len(entries),
		SignedAt: now,
		Took:     f.now().Sub(now),
		version:  v,
	})
	return true, nil
}

// Run refreshes every poll until ctx ends. A failed refresh keeps the
// current document (verifiers keep theirs too) and is logged once until a
// refresh succeeds again, since it fails every poll while the database is
// away.
func (f *Feed) Run(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = DefaultPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		built, err := f.Refresh(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			f.log.Warn("revocation feed not rebuilt; serving the last one", "err", err)
		case err == nil && failing:
			failing = false
			f.log.Info("revocation feed rebuilt again")
		}
		if built {
			d := f.Current()
			f.log.Debug("revocation feed rebuilt", "entries", d.Entries, "bytes", len(d.Body), "took", d.Took)
		}
	}
}

// Entries is the feed's rule: what the store's facts refuse. A revoked
// API token is never usable again, so every JWT of it is refused. A
// deactivated user, or a suspended or ended account, refuses the JWTs
// issued before the change (autho.NotBefore), so that one issued after a
// later reactivation is accepted. An id listed twice (an account suspended and ended) keeps the later
// not_before. Entries are ordered by kind and id, so the same facts sign to
// the same content.
func Entries(facts []autho.Revocation) []bearer.Revocation {
	type key struct {
		kind autho.RevocationKind
		id   string
	}
	nb := make(map[key]int64, len(facts))
	for _, r := range facts {
		k := key{r.Kind, r.ID}
		n := autho.NotBefore(r.At)
		if r.Kind == autho.RevokedToken {
			n = bearer.RevokedForever
		}
		if old, ok := nb[k]; !ok || n > old {
			nb[k] = n
		}
	}
	out := make([]bearer.Revocation, 0, len(nb))
	for k, n := range nb {
		out = append(out, bearer.Revocation{Kind: string(k.kind), ID: k.id, NotBefore: n})
	}
	slices.SortFunc(out, func(a, b bearer.Revocation) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
	return out
}
