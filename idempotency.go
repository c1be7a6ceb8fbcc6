package autho

import "time"

// IdempotentRequest is an admin API POST sent with an Idempotency-Key, and
// its first answer: kept for a day, so that a client retrying after a
// timeout changes nothing and is told what the first attempt did, on any
// node and across restarts.
type IdempotentRequest struct {
	OperatorKeyID string
	Key           string // the client's Idempotency-Key
	Fingerprint   string // of the method, path and body: the same key with another request is refused
	CreatedAt     time.Time
	Status        int    // the answer's HTTP status; 0 while the first attempt is still being answered
	Body          []byte // the answer, with every secret taken out
}

// Pending reports whether the first attempt has not been answered yet.
func (r *IdempotentRequest) Pending() bool { return r.Status == 0 }
