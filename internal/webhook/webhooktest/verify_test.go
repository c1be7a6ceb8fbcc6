package webhooktest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks specification's published vector
// (standard-webhooks/standard-webhooks, libraries/go/webhook_test.go,
// TestWebhookSign).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = "1614265330"
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var vectorTime = time.Unix(1614265330, 0)

func TestVerify(t *testing.T) {
	header := func(id, ts, sig string) http.Header {
		h := http.Header{}
		if id != "" {
			h.Set("webhook-id", id)
		}
		if ts != "" {
			h.Set("webhook-timestamp", ts)
		}
		if sig != "" {
			h.Set("webhook-signature", sig)
		}
		return h
	}
	valid := header(vectorID, vectorTimestamp, vectorSignature)
	tests := []struct {
		name    string
		secret  string
		header  http.Header
		body    string
		now     time.Time
		wantErr string // "" means verified
	}{
		{name: "specification vector", secret: vectorSecret, header: valid, body: vectorBody, now: vectorTime},
		{name: "secret without its prefix", secret: strings.TrimPrefix(vectorSecret, "whsec_"), header: valid, body: vectorBody, now: vectorTime},
		{name: "clock 5 minutes ahead of the timestamp", secret: vectorSecret, header: valid, body: vectorBody, now: vectorTime.Add(Tolerance)},
		{name: "clock 5 minutes behind the timestamp", secret: vectorSecret, header: valid, body: vectorBody, now: vectorTime.Add(-Tolerance)},
		{name: "second of several signatures is right", secret: vectorSecret, header: header(vectorID, vectorTimestamp, "v1,bm9wZQ== "+vectorSignature), body: vectorBody, now: vectorTime},
		{name: "right one among other versions and junk", secret: vectorSecret, header: header(vectorID, vectorTimestamp, "v1a,bm9wZQ== v2,bm9wZQ== v1,%%% nocomma "+vectorSignature+" v1,bm9wZQ=="), body: vectorBody, now: vectorTime},

		{name: "wrong secret", secret: "whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", header: valid, body: vectorBody, now: vectorTime, wantErr: "no v1 signature"},
		{name: "changed body", secret: vectorSecret, header: valid, body: `{"test": 2432232315}`, now: vectorTime, wantErr: "no v1 signature"},
		{name: "body with a space more", secret: vectorSecret, header: valid, body: vectorBody + " ", now: vectorTime, wantErr: "no v1 signature"},
		{name: "changed id", secret: vectorSecret, header: header("msg_p5jXN8AQM9LWM0D4loKWxJel", vectorTimestamp, vectorSignature), body: vectorBody, now: vectorTime, wantErr: "no v1 signature"},
		{name: "changed timestamp", secret: vectorSecret, header: header(vectorID, "1614265331", vectorSignature), body: vectorBody, now: vectorTime, wantErr: "no v1 signature"},
		{name: "old timestamp", secret: vectorSecret, header: valid, body: vectorBody, now: vectorTime.Add(Tolerance + time.Second), wantErr: "old"},
		{name: "timestamp in the future", secret: vectorSecret, header: valid, body: vectorBody, now: vectorTime.Add(-Tolerance - time.Second), wantErr: "ahead"},
		{name: "right signature under another version", secret: vectorSecret, header: header(vectorID, vectorTimestamp, "v2,"+strings.TrimPrefix(vectorSignature, "v1,")), body: vectorBody, now: vectorTime, wantErr: "no v1 signature"},
		{name: "several signatures, none right", secret: vectorSecret, header: header(vectorID, vectorTimestamp, "v1,bm9wZQ== v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="), body: vectorBody, now: vectorTime, wantErr: "no v1 signature"},
		{name: "signature truncated", secret: vectorSecret, header: header(vectorID, vectorTimestamp, vectorSignature[:len(vectorSignature)-4]), body: vectorBody, now: vectorTime, wantErr: "no v1 signature"},
		{name: "missing id", secret: vectorSecret, header: header("", vectorTimestamp, vectorSignature), body: vectorBody, now: vectorTime, wantErr: "missing"},
		{name: "missing timestamp", secret: vectorSecret, header: header(vectorID, "", vectorSignature), body: vectorBody, now: vectorTime, wantErr: "missing"},
		{name: "missing signature", secret: vectorSecret, header: header(vectorID, vectorTimestamp, ""), body: vectorBody, now: vectorTime, wantErr: "missing"},
		{name: "timestamp not unix seconds", secret: vectorSecret, header: header(vectorID, "2021-02-26T15:02:10Z", vectorSignature), body: vectorBody, now: vectorTime, wantErr: "not unix seconds"},
		{name: "secret not base64", secret: "whsec_***", header: valid, body: vectorBody, now: vectorTime, wantErr: "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, []byte(tt.body), tt.now)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Verify = %v, want nil", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Verify = nil, want an error with %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Verify = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}
