package bearer

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// IntrospectionConfig turns on strict mode: after a token verifies locally,
// autho's POST /v1/autho/token/introspect/ is asked whether it is still
// active (its API token not revoked, its user active, its account neither
// suspended nor expired).
//
// Strict mode fails closed: if autho cannot be asked (connection refused,
// timeout, a 5xx, or any answer other than 200 with a JSON boolean
// "active"), a token that is otherwise valid is refused with ErrUnavailable,
// which Middleware answers 503 (result 14) with Retry-After, not 401 16, so
// that the client keeps its good token and retries. The verifier then logs
// a warning on Config.Logger, at most one every 10 s. Only a definite
// {"active": false} is a refusal of the token (401 16). A service that
// prefers availability to prompt revocation should not use strict mode
// rather than hope for the best.
type IntrospectionConfig struct {
	// URL of the endpoint, e.g. "https://auth.example.com/v1/autho/token/introspect/".
	URL string
	// Secret is AUTHO_INTROSPECTION_SECRET, sent as "Authorization: Bearer
	// <Secret>". Use https: the secret and the token travel in the request.
	Secret string
	// CacheTTL is how long an answer, active or not, is reused for the same
	// token: the longest a revoked token can still be accepted. Default 5 s.
	// Failures are not cached.
	CacheTTL time.Duration
	// Client makes the request. Default: a 5 s timeout and no redirects
	// (a redirect would be answered by someone other than autho).
	Client *http.Client
}

const (
	defaultIntrospectTTL   = 5 * time.Second
	introspectAnswerBytes  = 64 << 10
	maxIntrospectCacheSize = 10000
	maxIntrospectTime      = 10 * time.Second
	// unreachableWarnEvery bounds the warnings while autho cannot be
	// asked: every request fails then, and one line per request would
	// flood the service's log.
	unreachableWarnEvery = 10 * time.Second
)

type introspector struct {
	url    string
	auth   string
	ttl    time.Duration
	client *http.Client
	now    func() time.Time

	log *slog.Logger

	mu       sync.Mutex
	cache    map[[32]byte]answer
	inflight map[[32]byte]*call
	warn     warnLimit // that autho cannot be asked
}

type answer struct {
	active bool
	until  time.Time
}

// call is one request to autho that every concurrent check of the same token
// waits on, so a burst of requests with one token costs one round trip.
type call struct {
	done   chan struct{}
	active bool
	err    error
}

func newIntrospector(cfg IntrospectionConfig, now func() time.Time, log *slog.Logger) (*introspector, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("bearer: Introspection.URL must be an absolute http(s) URL")
	}
	if cfg.Secret == "" {
		return nil, errors.New("bearer: Introspection.Secret is required")
	}
	if cfg.CacheTTL < 0 {
		return nil, errors.New("bearer: Introspection.CacheTTL must not be negative")
	}
	in := &introspector{
		url:      cfg.URL,
		auth:     "Bearer " + cfg.Secret,
		ttl:      cfg.CacheTTL,
		client:   cfg.Client,
		now:      now,
		log:      log,
		cache:    make(map[[32]byte]answer),
		inflight: make(map[[32]byte]*call),
	}
	if in.ttl == 0 {
		in.ttl = defaultIntrospectTTL
	}
	if in.client == nil {
		in.client = &http.Client{
			Timeout: 5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return in, nil
}

// active answers from the cache or asks autho about token, whose claims
// have jti.
func (in *introspector) active(ctx context.Context, token, jti string) (bool, error) {
	key := cacheKey(token, jti)
	in.mu.Lock()
	now := in.now()
	if a, ok := in.cache[key]; ok && now.Before(a.until) {
		in.mu.Unlock()
		return a.active, nil
	}
	c, leader := in.inflight[key], false
	if c == nil {
		c = &call{done: make(chan struct{})}
		in.inflight[key] = c
		leader = true
	}
	in.mu.Unlock()

	if leader {
		// Followers may outlive the leader's request, so its cancellation
		// must not fail them; a timeout still bounds the call, whatever the
		// Client's own settings, so that followers are never stuck on it.
		askCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxIntrospectTime)
		c.active, c.err = in.ask(askCtx, token)
		cancel()
		in.mu.Lock()
		delete(in.inflight, key)
		if c.err == nil {
			in.storeLocked(key, answer{c.active, in.now().Add(in.ttl)})
		}
		in.mu.Unlock()
		close(c.done)
	}
	select {
	case <-c.done:
		return c.active, c.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// unreachable notes that autho could not be asked, and logs it as a
// warning unless it did so less than unreachableWarnEvery ago; the warning
// says how many failures it stands for. err never holds the token or the
// secret: they travel in the body and a header, which no error repeats
// (net/http strips a password from the URL in its errors).
func (in *introspector) unreachable(err error) {
	failures, due := in.warn.failed(in.now())
	if !due {
		return
	}
	in.log.Warn("bearer: no answer from autho's introspection; strict mode answers 503 meanwhile",
		"url", redactedURL(in.url), "failures", failures, "err", err)
}

// warnLimit keeps a warning about a failure that repeats on every request
// or poll to at most one every unreachableWarnEvery, so that it does not
// flood the service's log; each warning says how many failures it stands
// for.
type warnLimit struct {
	mu       sync.Mutex
	warnedAt time.Time // the last warning
	failures int       // since then, counting the one being reported
}

// failed counts a failure at now and reports whether to warn of it, with
// the number of failures that warning stands for.
func (w *warnLimit) failed(now time.Time) (failures int, due bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failures++
	if !w.warnedAt.IsZero() && now.Sub(w.warnedAt) < unreachableWarnEvery {
		return 0, false
	}
	failures = w.failures
	w.warnedAt, w.failures = now, 0
	return failures, true
}

// redactedURL is u without a password, for a log line.
func redactedURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Redacted()
}

// cacheKey is what an answer about token is cached under: its jti, which
// names the JWT, so that no other string of the same JWT (another
// signature of the same claims) gets an entry and a request of its own;
// the token itself when it has no jti. Either is hashed, so that the
// process keeps no table of live bearer tokens in memory any longer than
// a request needs them.
func cacheKey(token, jti string) [32]byte {
	if jti != "" {
		return sha256.Sum256([]byte("jti\x00" + jti))
	}
	return sha256.Sum256([]byte("token\x00" + token))
}

// storeLocked bounds the cache: expired answers are swept when it is full,
// and if every answer is still fresh, the cache starts over (costing only
// extra requests, never a wrong answer).
func (in *introspector) storeLocked(key [32]byte, a answer) {
	if len(in.cache) >= maxIntrospectCacheSize {
		now := in.now()
		for k, v := range in.cache {
			if !now.Before(v.until) {
				delete(in.cache, k)
			}
		}
		if len(in.cache) >= maxIntrospectCacheSize {
			clear(in.cache)
		}
	}
	in.cache[key] = a
}

func (in *introspector) ask(ctx context.Context, token string) (bool, error) {
	form := url.Values{"token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, strings.NewReader(form))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", in.auth)
	resp, err := in.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("introspection answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, introspectAnswerBytes+1))
	if err != nil {
		return false, err
	}
	if len(body) > introspectAnswerBytes {
		return false, errors.New("introspection answer too large")
	}
	var ans struct {
		Active *bool `json:"active"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return false, fmt.Errorf("introspection answer: %w", err)
	}
	if ans.Active == nil {
		return false, errors.New(`introspection answer has no boolean "active"`)
	}
	return *ans.Active, nil
}
