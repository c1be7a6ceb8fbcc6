package bearer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// RevocationsConfig makes a Verifier poll autho's revocation feed,
// GET /v1/autho/revocations: a document signed with the login keys that
// lists the revoked API tokens, deactivated users and suspended accounts.
// A JWT that matches an entry is refused with ErrInvalidToken (401 16),
// although its signature and exp are fine.
//
// The feed fails closed: until the first fetch, and once the last contact
// with autho (a verified document, or a 304 for the copy held) is older
// than MaxAge, every otherwise valid JWT is refused with ErrUnavailable
// (503 14, Retry-After), because the verifier can no longer tell which of
// them were revoked. Before that, a failed fetch or a document that does
// not verify keeps the last good copy in use, with a warning on
// Config.Logger at most once every 10 s.
type RevocationsConfig struct {
	// URL of the feed, e.g. "https://auth.example.com/v1/autho/revocations".
	// Required.
	URL string
	// Every is the poll period, default 5 s: the longest a revocation
	// takes to reach the verifier once autho publishes it. Each wait is
	// shortened by a random 0–20 %, so that a fleet started together does
	// not poll in step.
	Every time.Duration
	// MaxAge is how long the last contact with autho may be ago before
	// every token is refused with ErrUnavailable. Default 10 min; it must
	// be longer than Every.
	MaxAge time.Duration
	// Client makes the requests. Default: a 10 s timeout and no redirects
	// (a redirect would be answered by someone other than autho).
	Client *http.Client
}

// DefaultRevocationsEvery is RevocationsConfig.Every when unset.
const DefaultRevocationsEvery = 5 * time.Second

const (
	defaultFeedMaxAge = 10 * time.Minute
	// maxFeedBytes bounds the document: at about 80 bytes an entry, room
	// for some 200,000 revocations, far more than the feed lists (an entry
	// leaves once every JWT it could refuse has expired).
	maxFeedBytes = 16 << 20
	// feedJitter is the share of Every a wait is shortened by, at most.
	feedJitter = 5
)

// Refusals of the feed, shared so that the request path allocates nothing.
var (
	errRevoked      = invalid("revoked (revocation feed)", nil)
	errFeedNone     = unavailable("no revocation feed fetched yet", nil)
	errFeedTooOld   = unavailable("revocation feed older than MaxAge", nil)
	errFeedNotReady = errors.New("revocation feed not fetched yet")
)

// feed polls the revocation feed and holds the last good copy.
type feed struct {
	url    string
	every  time.Duration
	maxAge time.Duration
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	v       *Verifier
	parsers map[string]*jwt.Parser // the feed's claims, one per algorithm

	held  atomic.Pointer[feedCopy]
	first chan struct{} // closed once the first fetch has ended, however

	ctx       context.Context
	stop      context.CancelFunc
	done      chan struct{} // closed when the poller has returned
	closeOnce sync.Once

	warn warnLimit // that no good copy came
}

// feedCopy is one verified document, never changed once held: a new
// document or a 304 swaps in a new feedCopy, so that the request path reads
// it with one atomic load and no lock.
type feedCopy struct {
	// Each maps an id to the not_before of its entry, in Unix seconds:
	// tokens by API token id, users by user id, accounts by account id.
	tokens, users, accounts map[string]int64
	issuedAt                time.Time // the document's iat
	etag                    string
	contact                 time.Time // the last 200 or 304 that confirmed it
}

func newFeed(cfg RevocationsConfig, v *Verifier, issuer string, leeway time.Duration, now func() time.Time, log *slog.Logger) (*feed, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("bearer: Revocations.URL must be an absolute http(s) URL")
	}
	f := &feed{
		url:     cfg.URL,
		every:   cfg.Every,
		maxAge:  cfg.MaxAge,
		client:  cfg.Client,
		now:     now,
		log:     log,
		v:       v,
		parsers: make(map[string]*jwt.Parser, len(v.algs)),
		first:   make(chan struct{}),
		done:    make(chan struct{}),
	}
	switch {
	case f.every == 0:
		f.every = DefaultRevocationsEvery
	case f.every < 0:
		return nil, errors.New("bearer: Revocations.Every must not be negative")
	}
	switch {
	case f.maxAge == 0:
		f.maxAge = defaultFeedMaxAge
	case f.maxAge < 0:
		return nil, errors.New("bearer: Revocations.MaxAge must not be negative")
	}
	if f.maxAge <= f.every {
		return nil, fmt.Errorf("bearer: Revocations.MaxAge (%v) must be longer than Revocations.Every (%v), or every poll would find the copy too old", f.maxAge, f.every)
	}
	if f.client == nil {
		f.client = &http.Client{
			Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	for _, a := range v.algs {
		f.parsers[a] = jwt.NewParser(
			jwt.WithValidMethods([]string{a}),
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithStrictDecoding(),
			jwt.WithTimeFunc(now),
		)
	}
	return f, nil
}

func (f *feed) start() {
	f.ctx, f.stop = context.WithCancel(context.Background())
	go f.run()
}

func (f *feed) close() {
	f.closeOnce.Do(func() {
		f.stop()
		<-f.done
	})
}

// run fetches at once, then after each wait until closed.
func (f *feed) run() {
	defer close(f.done)
	f.poll()
	close(f.first)
	t := time.NewTimer(f.wait())
	defer t.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-t.C:
			f.poll()
			t.Reset(f.wait())
		}
	}
}

// wait is Every less a random jitter. Shortening, never lengthening, keeps
// Every the bound on how late a change is seen. The jitter is no secret,
// so math/rand does.
func (f *feed) wait() time.Duration {
	j := f.every / feedJitter
	if j <= 0 {
		return f.every
	}
	return f.every - rand.N(j)
}

// poll fetches the feed once and, if that works, holds what it says.
func (f *feed) poll() {
	err := f.fetch()
	if err == nil || f.ctx.Err() != nil {
		return // closing is no failure worth a warning
	}
	f.failed(err)
}

func (f *feed) fetch() error {
	// Bounded even if the Client has no timeout: a fetch that never ended
	// would stop the polling, and the copy would age into MaxAge unseen.
	ctx, cancel := context.WithTimeout(f.ctx, maxFetchTime)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/jwt")
	cur := f.held.Load()
	if cur != nil && cur.etag != "" {
		req.Header.Set("If-None-Match", cur.etag)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		if cur == nil || cur.etag == "" {
			return errors.New("revocation feed answered 304 to a request for no copy")
		}
		f.touch(cur)
		return nil
	case http.StatusOK:
	default:
		return fmt.Errorf("revocation feed answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFeedBytes+1))
	if err != nil {
		return fmt.Errorf("reading the revocation feed: %w", err)
	}
	if len(body) > maxFeedBytes {
		return fmt.Errorf("revocation feed larger than %d bytes", maxFeedBytes)
	}
	l, err := f.verify(ctx, strings.TrimSpace(string(body)))
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			// One of the login JWT's checks: its kind, "invalid or
			// expired token", would mislead here; its reason does not.
			err = errors.New(e.Reason)
			if e.Err != nil {
				err = fmt.Errorf("%s: %w", e.Reason, e.Err)
			}
		}
		return fmt.Errorf("revocation feed refused: %w", err)
	}
	if cur != nil && l.IssuedAt.Before(cur.issuedAt) {
		// Behind a load balancer, a node that re-signed earlier than the
		// last one asked: what it says is older, and taking it would undo
		// a revocation only the newer copy has. But it is autho, so the
		// copy held is as current as autho can say. A replay of an old
		// document gets no further: it is refused at its exp.
		f.log.Debug("bearer: the revocation feed answered a document older than the one held; keeping the newer",
			"url", redactedURL(f.url))
		f.touch(cur)
		return nil
	}
	f.held.Store(newFeedCopy(l, resp.Header.Get("ETag"), f.now()))
	return nil
}

// touch records that autho confirmed cur just now. Only the poller swaps
// copies, so nothing newer is lost.
func (f *feed) touch(cur *feedCopy) {
	c := *cur
	c.contact = f.now()
	f.held.Store(&c)
}

// verify checks the feed as a login JWT is checked, with the same keys and
// algorithms, except that typ must name the feed and there is no aud, sub
// acc or tok; its iat is required, so that copies can be ordered.
func (f *feed) verify(ctx context.Context, token string) (*RevocationList, error) {
	headerEnd, ok := compact(token)
	if !ok {
		return nil, errNotCompact
	}
	h, err := parseHeader(token[:headerEnd])
	if err != nil {
		return nil, err
	}
	if h.typ != RevocationsType {
		return nil, fmt.Errorf("typ %q is not %q", h.typ, RevocationsType)
	}
	keyAlg, key, err := f.v.signedBy(ctx, token, headerEnd, h)
	if err != nil {
		return nil, err
	}
	l := new(RevocationList)
	if _, err := f.parsers[keyAlg].ParseWithClaims(token, l, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
		return nil, err
	}
	if l.IssuedAt.IsZero() {
		return nil, errors.New(`claim "iat" is required`)
	}
	return l, nil
}

func newFeedCopy(l *RevocationList, etag string, now time.Time) *feedCopy {
	var n [3]int
	for _, r := range l.Revoked {
		n[kindIndex(r.Kind)]++
	}
	c := &feedCopy{
		tokens:   make(map[string]int64, n[0]),
		users:    make(map[string]int64, n[1]),
		accounts: make(map[string]int64, n[2]),
		issuedAt: l.IssuedAt.Time,
		etag:     etag,
		contact:  now,
	}
	for _, r := range l.Revoked {
		m := c.tokens
		switch r.Kind {
		case RevokedUser:
			m = c.users
		case RevokedAccount:
			m = c.accounts
		}
		// Two entries for one id: the later not_before refuses more, and
		// refusing too much is the safe side.
		if nb, ok := m[r.ID]; !ok || r.NotBefore > nb {
			m[r.ID] = r.NotBefore
		}
	}
	return c
}

// kindIndex orders the kinds as newFeedCopy's counts; Validate has made
// sure there is no other.
func kindIndex(kind string) int {
	switch kind {
	case RevokedUser:
		return 1
	case RevokedAccount:
		return 2
	}
	return 0
}

// check refuses c if the feed revokes it, and every token while there is
// no copy recent enough to say. It runs on every request: one atomic load,
// three map lookups, no allocation.
func (f *feed) check(ctx context.Context, c *Claims) error {
	cp := f.held.Load()
	if cp == nil {
		// Only right after New: wait for the first fetch rather than
		// refuse the first requests a service gets.
		select {
		case <-f.first:
		case <-ctx.Done():
			return unavailable("waiting for the revocation feed", errors.Join(errFeedNotReady, ctx.Err()))
		}
		if cp = f.held.Load(); cp == nil {
			return errFeedNone
		}
	}
	if f.now().Sub(cp.contact) > f.maxAge {
		return errFeedTooOld
	}
	iat := c.IssuedAt.Unix()
	if nb, ok := cp.tokens[c.Token]; ok && iat < nb {
		return errRevoked
	}
	if nb, ok := cp.users[c.Subject]; ok && iat < nb {
		return errRevoked
	}
	if nb, ok := cp.accounts[c.Account]; ok && iat < nb {
		return errRevoked
	}
	return nil
}

// failed notes a fetch that did not give a good copy, and warns unless it
// did less than unreachableWarnEvery ago; the warning counts the failures
// it stands for. The feed holds no secret, so err may say anything.
func (f *feed) failed(err error) {
	now := f.now()
	failures, due := f.warn.failed(now)
	if !due {
		return
	}
	attrs := []any{"url", redactedURL(f.url), "failures", failures, "err", err}
	if cp := f.held.Load(); cp != nil {
		attrs = append(attrs, "copy_age", now.Sub(cp.contact).Round(time.Second).String(), "max_age", f.maxAge.String())
	}
	f.log.Warn("bearer: could not update the revocation feed; keeping the last good copy until it is older than MaxAge", attrs...)
}
