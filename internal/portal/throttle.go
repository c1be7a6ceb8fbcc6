package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/autho/autho"
)

// Login throttling. Failed sign-ins are recorded in the database under
// three keys: the email, the client IP, and the two together. Each key may
// fail a few times in failureWindow for free; after that, each further try
// must wait a delay that doubles with every failure, up to maxDelay. A
// refused try does no password check and is not counted, so hammering does
// not lengthen the wait, and since failures older than the window stop
// counting, every delay ends by itself.
//
//   - email + IP: freeFailures, then the delay. This is what someone
//     guessing one person's password from one place meets.
//   - IP: freeFailuresIP (more, since an office shares one address), then the
//     delay. This stops one address from trying one password on many emails.
//   - email: freeFailures across all addresses, then the delay, which stops
//     guessing spread over many addresses. It is the one limit an attacker
//     could use to keep a victim out, so it does not stop an address that
//     has not failed for this email in the window: the victim, signing in
//     from their own machine, still gets their password checked. A wrong
//     password from such an address is still counted and answered with the
//     throttling message.
const (
	failureWindow  = 15 * time.Minute
	freeFailures   = 5
	freeFailuresIP = 20
	firstDelay     = 30 * time.Second
	maxDelay       = 15 * time.Minute
)

// throttleKeys are the three keys of one sign-in attempt. The email is
// hashed, so that what strangers type into the form (which may be a
// password typed into the wrong field) is not kept as text.
type throttleKeys struct {
	email, ip, pair string
}

func keysFor(email, ip string) throttleKeys {
	e := sha256.Sum256([]byte("autho portal email\x00" + autho.EmailKey(email)))
	eh := hex.EncodeToString(e[:])
	pr := sha256.Sum256([]byte(eh + "\x00" + ip))
	return throttleKeys{email: "email:" + eh, ip: "ip:" + ip, pair: "pair:" + hex.EncodeToString(pr[:])}
}

// throttle is the verdict for one attempt.
type throttle struct {
	wait time.Duration // > 0: refuse now, without checking the password
	// reason is what the person is told while waiting.
	reason string
	// emailLimited: the email is over its limit, but this address may
	// still try (see above); a wrong password gets the throttling message.
	emailLimited time.Duration
}

// delayAfter is how long to wait after the last of n failures, allowing
// free failures first.
func delayAfter(n, free int) time.Duration {
	if n < free {
		return 0
	}
	d := firstDelay
	for i := free; i < n && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}

// checkThrottle decides whether an attempt may go ahead.
func (p *Portal) checkThrottle(ctx context.Context, k throttleKeys, now time.Time) (throttle, error) {
	since := now.Add(-failureWindow)
	remaining := func(key string, free int) (time.Duration, int, error) {
		lf, err := p.store.CountLoginFailures(ctx, key, since)
		if err != nil {
			return 0, 0, err
		}
		d := delayAfter(lf.Count, free)
		if d == 0 {
			return 0, lf.Count, nil
		}
		return max(lf.Last.Add(d).Sub(now), 0), lf.Count, nil
	}
	if w, _, err := remaining(k.ip, freeFailuresIP); err != nil || w > 0 {
		return throttle{wait: w, reason: "Too many failed sign-ins from your network. Wait " + waitText(w) + ", then try again."}, err
	}
	w, pairFailures, err := remaining(k.pair, freeFailures)
	if err != nil || w > 0 {
		return throttle{wait: w, reason: emailReason(w)}, err
	}
	w, _, err = remaining(k.email, freeFailures)
	if err != nil || w == 0 {
		return throttle{}, err
	}
	if pairFailures > 0 {
		return throttle{wait: w, reason: emailReason(w)}, nil
	}
	return throttle{emailLimited: w}, nil
}

func emailReason(w time.Duration) string {
	return "Too many failed sign-ins for this email address. Wait " + waitText(w) + ", then try again."
}

// waitText rounds a wait up to what a person reads: seconds under two
// minutes, whole minutes above.
func waitText(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	switch {
	case s <= 1:
		return "1 second"
	case s < 120:
		return fmt.Sprintf("%d seconds", s)
	}
	return fmt.Sprintf("%d minutes", (s+59)/60)
}
