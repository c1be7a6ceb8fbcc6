package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/secret"
)

// Portal sign-in throttling. Failed sign-ins (and wrong current passwords
// at a password change) are recorded in the database under
// three keys: the email, the client IP, and the two together. Each key may
// fail a few times in failureWindow for free; after that, each further try
// must wait a delay that doubles with every failure, up to maxDelay. A
// refused try does no password check and is not counted, so hammering does
// not lengthen the wait, and since failures older than the window stop
// counting, every delay ends by itself. An attempt is counted as a failure
// from the moment it is let through (see reserve), not once its password
// has turned out wrong.
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
// password typed into the wrong field) is not kept as text. The address is
// the partner login's rate-limit key (an IPv6 client is its /64).
type throttleKeys struct {
	email, ip, pair string
}

func keysFor(email, ip string) throttleKeys {
	ip = login.RateKey(ip)
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

// reserve decides whether an attempt may go ahead and, when it may,
// reserves it: in the same transaction as the counts, so that attempts
// arriving together (on any node) see each other before any password is
// checked, and a burst gets no more checks than the allowance. The
// reserved attempt counts as a failure until forgive removes it; one that
// is never settled (the node died mid-check) stays counted, erring on the
// side of the person being guessed at.
func (s *Service) reserve(ctx context.Context, k throttleKeys, now time.Time) (th throttle, attempt string, err error) {
	attempt = secret.NewID("att")
	ok, err := s.Store.ReserveLoginAttempt(ctx, attempt, []string{k.ip, k.pair, k.email}, now.Add(-failureWindow), now,
		func(lf []autho.LoginFailures) bool {
			th = verdict(lf[0], lf[1], lf[2], now)
			return th.wait == 0
		})
	if err != nil {
		return th, "", storeErr(err, "reserve a sign-in attempt", nil)
	}
	if !ok {
		return th, "", nil
	}
	return th, attempt, nil
}

// refused is the throttle's answer as an error: ErrThrottled, with how long
// to wait.
func (th throttle) refused() error {
	return &Error{Message: th.reason, RetryAfter: th.wait, kind: ErrThrottled}
}

// forgive removes a reserved attempt that did not fail: the password was
// right, or was never checked. Not the request's context: a client that
// hangs up must not leave a right password counted as a wrong one.
func (s *Service) forgive(ctx context.Context, attempt string) {
	if err := s.Store.ForgetLoginAttempt(context.WithoutCancel(ctx), attempt); err != nil {
		s.log().Warn("portal: cannot settle a sign-in attempt", "err", err)
	}
}

// verdict is the throttle's rule for one attempt, given the recent
// failures under its address, its email and address, and its email.
func verdict(ip, pair, email autho.LoginFailures, now time.Time) throttle {
	remaining := func(lf autho.LoginFailures, free int) time.Duration {
		d := delayAfter(lf.Count, free)
		if d == 0 {
			return 0
		}
		return max(lf.Last.Add(d).Sub(now), 0)
	}
	if w := remaining(ip, freeFailuresIP); w > 0 {
		return throttle{wait: w, reason: "Too many failed sign-ins from your network. Wait " + waitText(w) + ", then try again."}
	}
	if w := remaining(pair, freeFailures); w > 0 {
		return throttle{wait: w, reason: emailReason(w)}
	}
	w := remaining(email, freeFailures)
	if w == 0 {
		return throttle{}
	}
	if pair.Count > 0 {
		return throttle{wait: w, reason: emailReason(w)}
	}
	return throttle{emailLimited: w}
}

// emailRefusal is the refusal of an email over its limit: what a wrong
// password from an address the limit spared gets, and what a second factor
// gets at once.
func (th throttle) emailRefusal() throttle {
	return throttle{wait: th.emailLimited, reason: emailReason(th.emailLimited)}
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
