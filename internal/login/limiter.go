package login

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter counts refused logins per key (a client IP, a partner token hash)
// in token buckets. Only refusals spend tokens, so a partner that logs in
// correctly is never slowed by its own successes, and a key with an empty
// bucket is refused before any database work.
//
// The state is per process: with several nodes, a client can make up to
// nodes×limit refusals a minute. The limit exists to make guessing
// expensive, and 178-bit secrets make that a generous margin.
type Limiter struct {
	perMinute int
	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	pending   map[string]int // Take's attempts not yet done, by key
}

// maxBuckets bounds the memory an attacker can make us spend by sending
// many distinct keys.
const maxBuckets = 100_000

// RateKey is the client a rate limit counts for the client IP ip: an IPv4
// address as it is (an IPv4-mapped IPv6 address as its IPv4), an IPv6
// address as its /64 prefix. A subscriber is routinely given a whole /64,
// so counting single IPv6 addresses would give one client 2^64 buckets.
// Anything that does not parse as an address is its own key.
func RateKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64) // cannot fail: 64 bits fit an IPv6 address
	return p.String()
}

// NewLimiter returns a limiter allowing perMinute refusals per key and
// minute; 0 disables it (a nil *Limiter also allows everything).
func NewLimiter(perMinute int) *Limiter {
	if perMinute <= 0 {
		return nil
	}
	return &Limiter{perMinute: perMinute, buckets: make(map[string]*rate.Limiter), pending: make(map[string]int)}
}

// Wait reports how long the caller must wait before key may be tried again;
// zero means go ahead. It spends nothing.
func (l *Limiter) Wait(key string, now time.Time) time.Duration {
	if l == nil || key == "" {
		return 0
	}
	l.mu.Lock()
	b := l.buckets[key]
	l.mu.Unlock()
	if b == nil {
		return 0
	}
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	perSecond := float64(l.perMinute) / 60
	return time.Duration(math.Ceil((1-tokens)/perSecond*1e9)) * time.Nanosecond
}

// Take lets one attempt of key through, or says how long to wait, counting
// the attempts still being checked as if refused: however many arrive at
// once, no more go through than the bucket holds tokens. done ends the
// attempt; a refused one spends its token, a good one spends nothing.
func (l *Limiter) Take(key string, now time.Time) (done func(refused bool), wait time.Duration) {
	if l == nil || key == "" {
		return func(bool) {}, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if free := l.bucket(key, now).TokensAt(now) - float64(l.pending[key]); free < 1 {
		perSecond := float64(l.perMinute) / 60
		return nil, time.Duration(math.Ceil((1-free)/perSecond*1e9)) * time.Nanosecond
	}
	l.pending[key]++
	return func(refused bool) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.pending[key]--; l.pending[key] == 0 {
			delete(l.pending, key)
		}
		if refused {
			l.bucket(key, time.Now()).AllowN(time.Now(), 1)
		}
	}, 0
}

// bucket is key's bucket, made full if it has none. Called with l.mu held.
func (l *Limiter) bucket(key string, now time.Time) *rate.Limiter {
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)
		l.buckets[key] = b
	}
	return b
}

// Refused spends one token of key's bucket.
func (l *Limiter) Refused(key string, now time.Time) {
	if l == nil || key == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(key, now).AllowN(now, 1)
}

// sweep makes room for at least half the cap of new keys, so that a flood
// of distinct keys costs one pass over the map per maxBuckets/2 keys, not
// one per key. Full buckets go first: a missing bucket behaves exactly like
// a full one. If that is not enough (a flood inside one refill period), the
// fullest of the rest go next. Buckets refill with time, so the fullest are
// those refused least and longest ago, and the buckets of keys being
// limited, which are the emptiest, are the last to go: a spray of fresh
// keys, each refused once, cannot give anyone their limit back. Called with
// l.mu held.
func (l *Limiter) sweep(now time.Time) {
	type bucket struct {
		key    string
		tokens float64
	}
	rest := make([]bucket, 0, len(l.buckets))
	for k, b := range l.buckets {
		tokens := b.TokensAt(now)
		if tokens >= float64(l.perMinute) {
			delete(l.buckets, k)
			continue
		}
		rest = append(rest, bucket{k, tokens})
	}
	excess := len(rest) - maxBuckets/2
	if excess <= 0 {
		return
	}
	slices.SortFunc(rest, func(a, b bucket) int { return cmp.Compare(b.tokens, a.tokens) })
	for _, b := range rest[:excess] {
		delete(l.buckets, b.key)
	}
}
