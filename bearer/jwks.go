package bearer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// JWKSOptions tunes a JWKS source. The zero value is good.
type JWKSOptions struct {
	// Client fetches the document. Default: a client with a 10 s timeout
	// that follows at most 3 redirects.
	Client *http.Client
	// MinRefresh and MaxRefresh bound how long a fetched document is used
	// before a background refresh, whatever its Cache-Control max-age says.
	// Defaults 1 minute and 1 hour.
	MinRefresh, MaxRefresh time.Duration
	// MaxBytes bounds the document. Default 1 MiB.
	MaxBytes int64
}

const (
	defaultMinRefresh = time.Minute
	defaultMaxRefresh = time.Hour
	// noMaxAgeRefresh is used when the document says nothing about caching.
	noMaxAgeRefresh  = 5 * time.Minute
	defaultJWKSBytes = 1 << 20
	// unknownKIDInterval limits refetches caused by a kid we have not seen.
	// Anyone can send a token with a random kid; without this, each one
	// would be a request to the JWKS endpoint.
	unknownKIDInterval = 10 * time.Second
	maxFetchTime       = 30 * time.Second
)

// JWKS is a KeySource backed by a JSON Web Key Set document, such as autho's
// /.well-known/jwks.json. Keys are fetched on first use and cached. When the
// cache is older than the document's max-age, the next lookup starts a
// refresh in the background and is answered from the cache meanwhile; if
// the refresh fails, the cached keys keep being served. A kid that is not in
// the cache causes an immediate refetch (this is how a key rotated in by
// autho is picked up), but at most once per 10 s. Tokens must carry a kid.
//
// There is no goroutine when nothing is being fetched, so a JWKS needs no
// Close.
type JWKS struct {
	url        string
	client     *http.Client
	minRefresh time.Duration
	maxRefresh time.Duration
	maxBytes   int64
	now        func() time.Time // tests move time without sleeping

	mu          sync.Mutex
	keys        map[string]verifyKey
	fetched     bool          // a document has been loaded at least once
	lastAttempt time.Time     // start of the latest fetch, successful or not
	nextRefresh time.Time     // when the cache counts as stale
	inflight    chan struct{} // non-nil while a fetch runs; closed when it ends
	lastErr     error         // outcome of the latest fetch
}

// NewJWKS returns a KeySource for the JWKS document at url. It fetches
// nothing yet; call Refresh to load the keys at start-up and fail early.
func NewJWKS(url string, opt JWKSOptions) *JWKS {
	j := &JWKS{
		url:        url,
		client:     opt.Client,
		minRefresh: opt.MinRefresh,
		maxRefresh: opt.MaxRefresh,
		maxBytes:   opt.MaxBytes,
		now:        time.Now,
	}
	if j.client == nil {
		j.client = &http.Client{
			Timeout: 10 * time.Second,
			CheckRedirect: func(_ *http.Request, via []*http.Request) error {
				if len(via) >= 3 {
					return errors.New("too many redirects")
				}
				return nil
			},
		}
	}
	if j.minRefresh <= 0 {
		j.minRefresh = defaultMinRefresh
	}
	if j.maxRefresh <= 0 {
		j.maxRefresh = defaultMaxRefresh
	}
	if j.maxRefresh < j.minRefresh {
		j.maxRefresh = j.minRefresh
	}
	if j.maxBytes <= 0 {
		j.maxBytes = defaultJWKSBytes
	}
	return j
}

var (
	errNoKID      = errors.New("token has no kid")
	errUnknownKID = errors.New("no key with that kid")
)

// Key implements KeySource.
func (j *JWKS) Key(ctx context.Context, kid string) (string, any, error) {
	if kid == "" {
		return "", nil, errNoKID
	}
	j.mu.Lock()
	now := j.now()
	if k, ok := j.keys[kid]; ok {
		if j.inflight == nil && !now.Before(j.nextRefresh) {
			j.startFetchLocked(now)
		}
		j.mu.Unlock()
		return k.alg, k.key, nil
	}
	wait := j.inflight
	if wait == nil {
		if !j.lastAttempt.IsZero() && now.Sub(j.lastAttempt) < unknownKIDInterval {
			err := j.missLocked()
			j.mu.Unlock()
			return "", nil, err
		}
		wait = j.startFetchLocked(now)
	}
	j.mu.Unlock()

	select {
	case <-wait:
	case <-ctx.Done():
		return "", nil, ctx.Err()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if k, ok := j.keys[kid]; ok {
		return k.alg, k.key, nil
	}
	return "", nil, j.missLocked()
}

// missLocked explains a cache miss: an unknown kid, or no keys at all because
// every fetch so far failed.
func (j *JWKS) missLocked() error {
	if !j.fetched && j.lastErr != nil {
		return fmt.Errorf("JWKS not loaded: %w", j.lastErr)
	}
	return errUnknownKID
}

// Refresh fetches the document now (or waits for a fetch already under way)
// and reports whether it worked. Call it at start-up to learn early that the
// URL is wrong; Key never needs it.
func (j *JWKS) Refresh(ctx context.Context) error {
	j.mu.Lock()
	wait := j.inflight
	if wait == nil {
		wait = j.startFetchLocked(j.now())
	}
	j.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return ctx.Err()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lastErr
}

// startFetchLocked starts one fetch in its own goroutine and returns the
// channel closed when it ends. The fetch does not use any caller's context:
// others may be waiting on it, and the client's timeout bounds it.
func (j *JWKS) startFetchLocked(now time.Time) chan struct{} {
	done := make(chan struct{})
	j.inflight = done
	j.lastAttempt = now
	go func() {
		keys, ttl, err := j.fetch()
		j.mu.Lock()
		defer j.mu.Unlock()
		now := j.now()
		j.lastErr = err
		if err != nil {
			// Keep serving what we have; try again after the shortest
			// refresh interval rather than on every request.
			j.nextRefresh = now.Add(j.minRefresh)
		} else {
			j.keys = keys
			j.fetched = true
			j.nextRefresh = now.Add(ttl)
		}
		j.inflight = nil
		close(done)
	}()
	return done
}

func (j *JWKS) fetch() (map[string]verifyKey, time.Duration, error) {
	// Bounded even if the caller's Client has no timeout: while a fetch is
	// in flight no other starts, so a fetch that never ends would freeze the
	// key set.
	ctx, cancel := context.WithTimeout(context.Background(), maxFetchTime)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("JWKS answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, j.maxBytes+1))
	if err != nil {
		return nil, 0, err
	}
	if int64(len(body)) > j.maxBytes {
		return nil, 0, fmt.Errorf("JWKS larger than %d bytes", j.maxBytes)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, 0, err
	}
	return keys, j.cacheFor(resp.Header), nil
}

// parseJWKS keeps every key it can use and skips the rest: a key type this
// package does not know must not take the others down with it. A kid that
// appears twice is dropped altogether, since we could not tell which key it
// means.
func parseJWKS(body []byte) (map[string]verifyKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New(`JWKS: no "keys" array`)
	}
	keys := make(map[string]verifyKey, len(doc.Keys))
	dup := make(map[string]bool)
	for _, raw := range doc.Keys {
		kid, k, err := parseJWK(raw)
		if kid == "" {
			continue
		}
		if _, seen := keys[kid]; seen || dup[kid] {
			dup[kid] = true
			delete(keys, kid)
			continue
		}
		if err != nil {
			dup[kid] = true // a broken key still claims its kid
			continue
		}
		keys[kid] = k
	}
	return keys, nil
}

// cacheFor reads Cache-Control max-age, bounded by MinRefresh and MaxRefresh:
// the lower bound protects autho from a document that says max-age=0, the
// upper one bounds how long a withdrawn key stays trusted.
func (j *JWKS) cacheFor(h http.Header) time.Duration {
	d := noMaxAgeRefresh
	noCache := false
	for _, v := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(name) {
			case "max-age":
				if s, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && s >= 0 {
					d = time.Duration(min(s, 1<<32)) * time.Second
				}
			case "no-cache", "no-store":
				noCache = true
			}
		}
	}
	if noCache {
		d = 0
	}
	return max(j.minRefresh, min(d, j.maxRefresh))
}
