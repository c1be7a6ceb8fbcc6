package webhooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far webhook-timestamp may be from the receiver's clock,
// either way: the Standard Webhooks libraries' five minutes.
const Tolerance = 5 * time.Minute

// Verify checks a delivery the way a receiver's Standard Webhooks library
// does, written again from the specification rather than by calling the
// sender's code, so a mistake in one is not repeated in the other: the
// headers are all present, webhook-timestamp is within Tolerance of now, and
// one of the space-separated entries of webhook-signature is
// "v1," + base64(HMAC-SHA256(key, id.timestamp.body)). The secret may be
// given with or without its whsec_ prefix, as the libraries allow.
func Verify(secret string, header http.Header, body []byte, now time.Time) error {
	key, err := decodeKey(secret)
	if err != nil {
		return err
	}
	id := header.Get("webhook-id")
	rawTS := header.Get("webhook-timestamp")
	signatures := header.Get("webhook-signature")
	if id == "" || rawTS == "" || signatures == "" {
		return errors.New("webhook-id, webhook-timestamp or webhook-signature is missing")
	}
	unix, err := strconv.ParseInt(rawTS, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not unix seconds", rawTS)
	}
	ts := time.Unix(unix, 0)
	if now.Sub(ts) > Tolerance {
		return fmt.Errorf("webhook-timestamp is %s old, more than %s", now.Sub(ts).Round(time.Second), Tolerance)
	}
	if ts.Sub(now) > Tolerance {
		return fmt.Errorf("webhook-timestamp is %s ahead, more than %s", ts.Sub(now).Round(time.Second), Tolerance)
	}

	// The libraries sign the parsed timestamp written again, not the header
	// as it came; so does this, to accept exactly what they accept.
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, unix)
	mac.Write(body)
	want := mac.Sum(nil)

	for _, entry := range strings.Fields(signatures) {
		version, encoded, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" { // v1a (asymmetric) and future versions are not ours to check
			continue
		}
		got, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) { // constant time: no signing oracle
			return nil
		}
	}
	return errors.New("no v1 signature in webhook-signature matches")
}

func decodeKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, errors.New("the secret is not base64")
	}
	return key, nil
}
