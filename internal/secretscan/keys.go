// Package secretscan receives GitHub's secret-scanning partner alerts: it
// verifies that a report was signed by one of GitHub's published keys, tells
// autho's secrets apart from look-alikes without touching the database, and
// answers GitHub's feedback array. What a leaked secret sets in motion
// (revocation, events, mail, audit) is the Reporter's, behind an interface.
package secretscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// GitHubKeysURL is where GitHub publishes the keys that sign its alerts.
const GitHubKeysURL = "https://api.github.com/meta/public_keys/secret_scanning"

const (
	// refetchEvery bounds how often an unknown key id may send us to the
	// keys URL: the id is the sender's to choose, so without a bound anyone
	// could make us hammer GitHub (and be rate-limited by it).
	refetchEvery = time.Minute
	// maxKeysDoc caps the keys document; GitHub's is a few KiB.
	maxKeysDoc   = 1 << 20
	fetchTimeout = 10 * time.Second
)

var (
	// ErrUnknownKey says the key id is not among the published keys.
	ErrUnknownKey = errors.New("secretscan: unknown key id")
	// ErrKeysUnavailable says the id is not cached and the keys could not
	// be fetched lately: the report may be genuine, so it is worth a retry.
	ErrKeysUnavailable = errors.New("secretscan: signing keys unavailable")
)

// Keys is a cache of the ECDSA P-256 keys published at URL. It refetches
// when asked for an id it does not hold, at most once every minute, and
// keeps what it has when a fetch fails.
type Keys struct {
	URL    string
	Client *http.Client     // nil: a client with a 10 s timeout
	Now    func() time.Time // nil: time.Now; tests inject a clock

	mu       sync.Mutex
	keys     map[string]*ecdsa.PublicKey
	etag     string        // of the document keys came from
	tried    time.Time     // start of the last fetch, successful or not
	lastErr  error         // the last fetch's error, nil after a success
	inflight chan struct{} // closed when the running fetch ends; nil if none
}

// NewKeys returns a cache of the keys at url, fetched on first use.
func NewKeys(url string) *Keys {
	return &Keys{URL: url, Client: &http.Client{Timeout: fetchTimeout}}
}

// Key returns the public key named id. An id not cached makes it fetch the
// keys again unless it did so less than a minute ago; it then answers
// ErrUnknownKey, or ErrKeysUnavailable when the last fetch failed.
func (k *Keys) Key(ctx context.Context, id string) (*ecdsa.PublicKey, error) {
	for {
		k.mu.Lock()
		if pub, ok := k.keys[id]; ok {
			k.mu.Unlock()
			return pub, nil
		}
		if wait := k.inflight; wait != nil {
			// Another request is fetching: its answer is ours too.
			k.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		now := k.now()
		if !k.tried.IsZero() && now.Sub(k.tried) < refetchEvery {
			err := k.lastErr
			k.mu.Unlock()
			if err != nil {
				return nil, ErrKeysUnavailable
			}
			return nil, ErrUnknownKey
		}
		k.tried = now
		done := make(chan struct{})
		k.inflight = done
		etag := k.etag
		if k.keys == nil {
			etag = ""
		}
		k.mu.Unlock()

		// The fetch outlives a sender who hangs up: its result serves
		// every request after it, and the client's timeout bounds it.
		keys, newTag, err := k.fetch(context.WithoutCancel(ctx), etag)

		k.mu.Lock()
		k.lastErr = err
		if err == nil && keys != nil {
			k.keys = keys // whole: a key GitHub withdrew is dropped
			k.etag = newTag
		}
		k.inflight = nil
		close(done)
		pub, ok := k.keys[id]
		k.mu.Unlock()
		switch {
		case ok:
			return pub, nil
		case err != nil:
			return nil, ErrKeysUnavailable
		}
		return nil, ErrUnknownKey
	}
}

func (k *Keys) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// keysDoc is the document GitHub publishes.
type keysDoc struct {
	PublicKeys []struct {
		KeyIdentifier string `json:"key_identifier"`
		Key           string `json:"key"`
		IsCurrent     bool   `json:"is_current"`
	} `json:"public_keys"`
}

// fetch gets the keys document. With etag (that of the keys held) it asks
// conditionally: GitHub limits unauthenticated API calls to 60 an hour per
// address, and an answer 304 Not Modified does not count against that. A
// 304 returns nil keys and no error: the held keys are current.
func (k *Keys) fetch(ctx context.Context, etag string) (map[string]*ecdsa.PublicKey, string, error) {
	client := k.Client
	if client == nil {
		client = &http.Client{Timeout: fetchTimeout}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.URL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("secretscan: keys request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	// GitHub's API refuses requests without a User-Agent.
	req.Header.Set("User-Agent", "autho-secret-scanning")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("secretscan: fetching keys: %w", err)
	}
	defer resp.Body.Close()
	if etag != "" && resp.StatusCode == http.StatusNotModified {
		return nil, etag, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("secretscan: fetching keys: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxKeysDoc+1))
	if err != nil {
		return nil, "", fmt.Errorf("secretscan: reading keys: %w", err)
	}
	if len(b) > maxKeysDoc {
		return nil, "", errors.New("secretscan: keys document larger than 1 MiB")
	}
	keys, err := parseKeys(b)
	if err != nil {
		return nil, "", err
	}
	return keys, resp.Header.Get("ETag"), nil
}

// parseKeys reads the keys document. A key that is not PEM PKIX ECDSA
// P-256 is skipped rather than fatal, so that a key of a kind GitHub might
// add later does not cost us the ones we can use; a document without a
// single usable key is an error, and the cache keeps what it had.
func parseKeys(b []byte) (map[string]*ecdsa.PublicKey, error) {
	var doc keysDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("secretscan: keys document: %w", err)
	}
	keys := make(map[string]*ecdsa.PublicKey, len(doc.PublicKeys))
	for _, pk := range doc.PublicKeys {
		if pk.KeyIdentifier == "" {
			continue
		}
		if pub, err := parseKey(pk.Key); err == nil {
			keys[pk.KeyIdentifier] = pub
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("secretscan: keys document holds no ECDSA P-256 key")
	}
	return keys, nil
}

func parseKey(s string) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM public key")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 key")
	}
	return ec, nil
}
