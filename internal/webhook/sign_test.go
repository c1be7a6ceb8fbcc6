package webhook

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// The published vector of the Standard Webhooks specification
// (standard-webhooks/standard-webhooks, libraries/go/webhook_test.go,
// TestWebhookSign; the same in its other libraries' tests). Matching it is
// what lets a receiver's standardwebhooks library verify our deliveries.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSign(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		id      string
		ts      int64
		body    string
		want    string
		wantErr error
	}{
		{name: "specification vector", secret: vectorSecret, id: vectorID, ts: vectorTimestamp, body: vectorBody, want: vectorSignature},
		{name: "another id", secret: vectorSecret, id: "msg_other", ts: vectorTimestamp, body: vectorBody, want: "!" + vectorSignature},
		{name: "another time", secret: vectorSecret, id: vectorID, ts: vectorTimestamp + 1, body: vectorBody, want: "!" + vectorSignature},
		{name: "another body", secret: vectorSecret, id: vectorID, ts: vectorTimestamp, body: `{"test": 2432232315}`, want: "!" + vectorSignature},
		{name: "no prefix", secret: strings.TrimPrefix(vectorSecret, SecretPrefix), id: vectorID, ts: vectorTimestamp, body: vectorBody, wantErr: ErrMalformedSecret},
		{name: "not base64", secret: "whsec_not*base64*at*all*not*base64*at*all", id: vectorID, ts: vectorTimestamp, body: vectorBody, wantErr: ErrMalformedSecret},
		{name: "too short", secret: SecretPrefix + base64.StdEncoding.EncodeToString(make([]byte, 23)), id: vectorID, ts: vectorTimestamp, body: vectorBody, wantErr: ErrMalformedSecret},
		{name: "too long", secret: SecretPrefix + base64.StdEncoding.EncodeToString(make([]byte, 65)), id: vectorID, ts: vectorTimestamp, body: vectorBody, wantErr: ErrMalformedSecret},
		{name: "id with a dot", secret: vectorSecret, id: "msg.1", ts: vectorTimestamp, body: vectorBody, wantErr: errAny},
		{name: "empty id", secret: vectorSecret, id: "", ts: vectorTimestamp, body: vectorBody, wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sign(tt.secret, tt.id, time.Unix(tt.ts, 0), []byte(tt.body))
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Sign = %q, want an error", got)
				}
				if tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
					t.Fatalf("Sign error = %v, want %v", err, tt.wantErr)
				}
				if secret := strings.TrimPrefix(tt.secret, SecretPrefix); secret != "" && strings.Contains(err.Error(), secret) {
					t.Fatalf("the error %q holds the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if not, ok := strings.CutPrefix(tt.want, "!"); ok {
				if got == not || !strings.HasPrefix(got, "v1,") {
					t.Fatalf("Sign = %q, want another v1 signature", got)
				}
				return
			}
			if got != tt.want {
				t.Fatalf("Sign = %q, want %q", got, tt.want)
			}
		})
	}
}

// errAny in a table means any error will do.
var errAny = errors.New("any error")

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		key, err := decodeSecret(s)
		if err != nil {
			t.Fatalf("NewSecret made %d characters that do not decode: %v", len(s), err)
		}
		if len(key) != 32 || len(s) != len("whsec_")+44 {
			t.Fatalf("NewSecret: %d characters, %d bytes of key; want whsec_ + 44, 32", len(s), len(key))
		}
		if seen[s] {
			t.Fatal("NewSecret repeated itself")
		}
		seen[s] = true
		if _, err := Sign(s, "evt_1", time.Now(), []byte("{}")); err != nil {
			t.Fatalf("Sign refuses a secret of NewSecret: %v", err)
		}
	}
}
