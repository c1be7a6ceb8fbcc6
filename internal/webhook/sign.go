// Package webhook signs and sends webhook deliveries the Standard Webhooks way
// (https://www.standardwebhooks.com), so a receiver can verify them with the
// standardwebhooks libraries, and keeps them away from private networks: the
// URL is checked when an endpoint is made, and every connection is checked
// again when it is dialed, because DNS may answer differently by then.
//
// Nothing here stores anything or retries: the events package decides when to
// send and records what happened.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every webhook signing secret, so people and secret
// scanners can tell what it is.
const SecretPrefix = "whsec_"

// The Standard Webhooks specification asks for 24 to 64 random bytes.
const (
	secretBytes    = 32
	minSecretBytes = 24
	maxSecretBytes = 64
)

// ErrMalformedSecret says a signing secret is not whsec_ and base64 of 24 to
// 64 bytes. Its text never holds the secret.
var ErrMalformedSecret = errors.New("webhook: the signing secret is malformed")

// NewSecret makes a signing secret: whsec_ and standard base64 of 32 bytes
// from crypto/rand.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// Sign returns the webhook-signature header for one attempt:
// "v1," + base64(HMAC-SHA256(key, id.unixSeconds.body)), key being the
// decoded bytes after whsec_.
//
// The id must not hold a '.', as the specification warns, or two different
// (id, timestamp) pairs could sign the same string.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	if id == "" || strings.Contains(id, ".") {
		return "", errors.New("webhook: the message id is empty or holds a '.'")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts.Unix(), 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

func decodeSecret(secret string) ([]byte, error) {
	encoded, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrMalformedSecret
	}
	// The decoder's error names only a byte offset, but a fixed error is
	// simpler to trust.
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, ErrMalformedSecret
	}
	return key, nil
}
