package autho

import "time"

// APIToken belongs to one user; the partner's software trades it, with the
// partner token, for a JWT. Only its SHA-256 hash and a hint are stored.
type APIToken struct {
	ID         string // "tok_…"
	UserID     string
	AccountID  string // the user's account, kept on the token for the login join
	Name       string
	Hash       []byte // SHA-256 of the secret
	Hint       string
	Scopes     []string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time // zero: never used
	LastUsedIP string
	RevokedAt  time.Time // zero: not revoked
}

// TokenState is what an API token is at a moment: the word lists show, and
// what the login decides on.
type TokenState string

// API token states. A revoked token is revoked whatever its expiry: a
// revocation is a decision, an expiry only a date.
const (
	TokenActive  TokenState = "active"
	TokenExpired TokenState = "expired"
	TokenRevoked TokenState = "revoked"
)

// Revoked reports whether the token has been revoked.
func (t *APIToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// Expired reports whether the token's expiry time has passed at now.
func (t *APIToken) Expired(now time.Time) bool { return expired(t.ExpiresAt, now) }

// State is the token's state at now.
func (t *APIToken) State(now time.Time) TokenState { return tokenState(t.ExpiresAt, t.RevokedAt, now) }

// tokenState is APIToken.State's rule, shared with LoginToken.
func tokenState(expiresAt, revokedAt, now time.Time) TokenState {
	switch {
	case !revokedAt.IsZero():
		return TokenRevoked
	case expired(expiresAt, now):
		return TokenExpired
	}
	return TokenActive
}

// APICredential is an API token found by the hash of its secret, with
// whether its user is active, read in one lookup. (A login reads a
// LoginRecord instead: both secrets in one snapshot.)
type APICredential struct {
	Token      APIToken
	UserActive bool
}

// TokenFilter narrows a store's token listing by ids; empty fields do not
// filter.
type TokenFilter struct {
	AccountID string
	UserID    string
	// Expiring, when set, keeps only tokens not revoked whose expiry is
	// after its From and at or before its To: the expiry sweep's question.
	Expiring *TimeRange
}

// TimeRange is the times after From and at or before To.
type TimeRange struct{ From, To time.Time }

// TokenUse is one successful login to record against an API token.
type TokenUse struct {
	TokenID string
	At      time.Time
	IP      string
}

// NewestUses keeps the newest use of each token in uses, by token id. A
// store writes one row per token, so a batch must not name one twice.
func NewestUses(uses []TokenUse) map[string]TokenUse {
	newest := make(map[string]TokenUse, len(uses))
	for _, u := range uses {
		if old, ok := newest[u.TokenID]; !ok || u.At.After(old.At) {
			newest[u.TokenID] = u
		}
	}
	return newest
}

// The thresholds of a token's notices. Which tokens need a person's
// attention is a rule about tokens, not about a page, so it lives here
// beside State: the portal words it today, and a CLI column or a mail may
// read the same notices tomorrow without a second copy of the numbers.
const (
	// TokenExpiringWithin is how soon an expiry is worth a notice. It is
	// the window the account's admins see first in the token list, and the
	// one the account's own expiry warning uses: one "soon" everywhere.
	TokenExpiringWithin = 30 * 24 * time.Hour
	// TokenUnusedAfter is how long without a login makes a token look
	// forgotten: a candidate to revoke.
	TokenUnusedAfter = 90 * 24 * time.Hour
	// tokenNewFor is how long a token never used is not nagged about: one
	// made a minute ago has had no chance to be used yet.
	tokenNewFor = 24 * time.Hour
)

// TokenNoticeKind names why an active token needs attention.
type TokenNoticeKind string

// Token notices, most urgent first: an expiry stops a program, an idle
// token only invites a revocation.
const (
	NoticeExpiring  TokenNoticeKind = "expiring"   // expires within TokenExpiringWithin
	NoticeNeverUsed TokenNoticeKind = "never_used" // no login since it was made, over a day ago
	NoticeUnused    TokenNoticeKind = "unused"     // no login for TokenUnusedAfter or more
)

// TokenNotice is one reason to look at a token.
type TokenNotice struct {
	Kind TokenNoticeKind
	// Days is, for NoticeExpiring, the calendar days from today to the
	// expiry's day (0: today, 1: tomorrow); for NoticeUnused, the whole
	// days since the last use. Zero otherwise.
	Days int
}

// ExpiringSoon reports whether the token is active at now and expires
// within TokenExpiringWithin (an expiry exactly that far off counts).
func (t *APIToken) ExpiringSoon(now time.Time) bool {
	return t.State(now) == TokenActive && t.ExpiresAt.Sub(now) <= TokenExpiringWithin
}

// Notices are the token's notices at now, most urgent first, with days
// counted in loc (the zone its dates are shown in, so that "tomorrow"
// means the day after the reader's today). A revoked or expired token has
// none: its state says all there is to say. A token may have two: expiring
// and never used.
func (t *APIToken) Notices(now time.Time, loc *time.Location) []TokenNotice {
	if t.State(now) != TokenActive {
		return nil
	}
	var ns []TokenNotice
	if t.ExpiringSoon(now) {
		ns = append(ns, TokenNotice{NoticeExpiring, CalendarDays(now, t.ExpiresAt, loc)})
	}
	switch idle := now.Sub(t.LastUsedAt); {
	case t.LastUsedAt.IsZero():
		if now.Sub(t.CreatedAt) > tokenNewFor {
			ns = append(ns, TokenNotice{Kind: NoticeNeverUsed})
		}
	case idle >= TokenUnusedAfter:
		ns = append(ns, TokenNotice{NoticeUnused, int(idle / (24 * time.Hour))})
	}
	return ns
}

// CalendarDays is how many days lie between from's date and to's date in
// loc: 0 on the same day, 1 when to is tomorrow, negative when to is
// earlier. It counts dates, not 24-hour spans, so an expiry at 08:00
// tomorrow is "tomorrow" at 21:00 today; and a day is a day across a
// daylight-saving change.
func CalendarDays(from, to time.Time, loc *time.Location) int {
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return int(day(to).Sub(day(from)) / (24 * time.Hour))
}
