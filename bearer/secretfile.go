package bearer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultSecretFileReload is how often SecretFile.Run re-reads its file when
// given no period.
const DefaultSecretFileReload = 30 * time.Second

// unknownSecretReload bounds the re-reads a kid missing from the file
// causes: a rotation exported a moment ago is picked up at once, while a
// flood of made-up kids costs one small file read a second.
const unknownSecretReload = time.Second

// SecretFile is a KeySource for autho deployments that sign with HS256,
// backed by the file "autho keys export-hs256" writes. The file changes at
// every rotation, so a SecretFile re-reads it while the service runs: when
// Reload is called (on SIGHUP, say), every period while Run runs, and at
// once (at most once a second) when a token names a kid it does not hold.
// A file that fails to read or parse leaves the secrets read before in use.
//
// The file is a JSON Web Key Set (RFC 7517) of symmetric keys, one for each
// secret that may have signed a token still valid, the current one first:
//
//	{"keys":[
//	  {"kty":"oct","kid":"key_new","alg":"HS256","k":"<the secret, base64url>"},
//	  {"kty":"oct","kid":"key_old","alg":"HS256","k":"…","exp":1767225600}
//	]}
//
// "exp", autho's own member, is when a replaced key stops verifying (seconds
// since 1970); a SecretFile refuses its kid from then on, even if the file
// is never exported again. A file that holds nothing but a raw secret of at
// least 32 bytes, as export-hs256 wrote it before, is read too: that secret
// then verifies every kid.
//
// List HS256 in Config.Algorithms to use it.
type SecretFile struct {
	path string
	now  func() time.Time // tests move time without sleeping
	set  atomic.Pointer[secretSet]

	mu       sync.Mutex // serializes reads of the file
	lastRead time.Time  // under mu
}

// secretSet is one reading of the file.
type secretSet struct {
	any   []byte // the old format: one secret for every kid
	byKID map[string]fileSecret
}

type fileSecret struct {
	secret []byte
	exp    time.Time // zero: no end given
}

// NewSecretFile reads the file at path now, so that a missing or bad file
// is an error at start-up.
func NewSecretFile(path string) (*SecretFile, error) {
	f := &SecretFile{path: path, now: time.Now}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

var errSecretExpired = errors.New("the secret of that kid is past its exp")

// Key implements KeySource.
func (f *SecretFile) Key(_ context.Context, kid string) (string, any, error) {
	s := f.set.Load()
	if s.any != nil {
		return HS256, s.any, nil
	}
	if kid == "" {
		return "", nil, errNoKID
	}
	k, ok := s.byKID[kid]
	if !ok && f.reloadForUnknown() {
		k, ok = f.set.Load().byKID[kid]
	}
	switch {
	case !ok:
		return "", nil, errUnknownKID
	case !k.exp.IsZero() && !f.now().Before(k.exp):
		return "", nil, errSecretExpired
	}
	return HS256, k.secret, nil
}

// reloadForUnknown re-reads the file unless it was read less than
// unknownSecretReload ago, and reports whether it did. A failure is left
// for Reload's and Run's callers to report.
func (f *SecretFile) reloadForUnknown() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.now().Sub(f.lastRead) < unknownSecretReload {
		return false
	}
	return f.reloadLocked() == nil
}

// Reload reads the file again now. On an error the secrets read before stay
// in use; the error names the file and never carries a secret.
func (f *SecretFile) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reloadLocked()
}

func (f *SecretFile) reloadLocked() error {
	f.lastRead = f.now()
	b, err := os.ReadFile(f.path)
	if err != nil {
		return err
	}
	s, err := parseSecretFile(b)
	if err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	f.set.Store(s)
	return nil
}

// Run calls Reload every period (DefaultSecretFileReload if not positive)
// until ctx is done, and tells onError of each failure (nil logs a warning
// with slog's default logger).
func (f *SecretFile) Run(ctx context.Context, every time.Duration, onError func(error)) {
	if every <= 0 {
		every = DefaultSecretFileReload
	}
	if onError == nil {
		onError = func(err error) {
			slog.Warn("bearer: re-reading the HS256 secret file failed; keeping the secrets read before", "err", err)
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := f.Reload(); err != nil {
			onError(err)
		}
	}
}

// secretJWK holds the members of a key in the file this package reads.
type secretJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	K   string `json:"k"`
	Exp int64  `json:"exp"`
}

// parseSecretFile reads either format. Its errors never quote the file:
// encoding/json's would show a character of it, which may be a secret's.
func parseSecretFile(b []byte) (*secretSet, error) {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' && json.Valid(t) {
		return parseSecretJWKS(t)
	}
	if len(b) < minSecretBytes {
		return nil, fmt.Errorf("neither a JWK set of HS256 keys nor a secret of at least %d bytes", minSecretBytes)
	}
	return &secretSet{any: bytes.Clone(b)}, nil
}

func parseSecretJWKS(b []byte) (*secretSet, error) {
	var doc struct {
		Keys []secretJWK `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, errors.New(`not a JWK set: want {"keys":[…]}`)
	}
	if len(doc.Keys) == 0 {
		return nil, errors.New("the JWK set holds no key")
	}
	s := &secretSet{byKID: make(map[string]fileSecret, len(doc.Keys))}
	for i, k := range doc.Keys {
		secret, err := b64.DecodeString(k.K)
		switch {
		case k.Kid == "":
			return nil, fmt.Errorf("key %d has no kid", i)
		case k.Kty != "oct" || k.Alg != "" && k.Alg != HS256 || k.Use != "" && k.Use != "sig":
			return nil, fmt.Errorf(`key %s is not an HS256 signing key (want "kty":"oct", "alg":"HS256")`, k.Kid)
		case err != nil || len(secret) < minSecretBytes:
			return nil, fmt.Errorf(`key %s: "k" is not the base64url of at least %d bytes`, k.Kid, minSecretBytes)
		}
		if _, dup := s.byKID[k.Kid]; dup {
			return nil, fmt.Errorf("kid %s is given twice", k.Kid)
		}
		fs := fileSecret{secret: secret}
		if k.Exp != 0 {
			fs.exp = time.Unix(k.Exp, 0)
		}
		s.byKID[k.Kid] = fs
	}
	return s, nil
}
