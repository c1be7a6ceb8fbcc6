package admin

import (
	"context"
	"errors"
	"time"

	"github.com/autho/autho"
)

// A threshold is how long before an expiry its expiring event is made.
type threshold struct {
	before time.Duration
	name   string // as events and notices call it
}

// The thresholds of the SPEC, smallest first: a thing found past several
// at once (an account 6 days from its expiry when autho first looks) is
// told of the nearest one only.
var (
	accountThresholds = []threshold{{24 * time.Hour, "1d"}, {7 * 24 * time.Hour, "7d"}, {30 * 24 * time.Hour, "30d"}}
	tokenThresholds   = []threshold{{24 * time.Hour, "1d"}, {7 * 24 * time.Hour, "7d"}}
)

// expiredLookback bounds how long after an expiry its expired event is
// still made: a database restored after a year must not mail about every
// account that ended in between.
const expiredLookback = 7 * 24 * time.Hour

// NoticeExpiries makes the expiring and expired events of every account and
// live API token that reached a threshold, each once per thing, threshold
// and expiry whatever the number of nodes and sweeps (the store's notice
// decides), and reports how many it made. A renewal moves the expiry, so
// the old expiry's later thresholds are never reached, and the new one's
// are new notices. A suspended account is not told its expiry: it has
// been told why it cannot log in.
func (s *Service) NoticeExpiries(ctx context.Context) (int, error) {
	now := s.now()
	// A notice past the lookback is never a candidate again.
	s.noticed.Range(func(k, due any) bool {
		if now.Sub(due.(time.Time)) > expiredLookback {
			s.noticed.Delete(k)
		}
		return true
	})
	made := 0
	// tell makes the notice of a thing that reached a threshold, once.
	tell := func(n autho.Notice, ev func() (*autho.Event, error)) error {
		ok, err := s.notice(ctx, n, ev)
		if ok {
			made++
		}
		return err
	}
	as, err := s.Store.Accounts(ctx)
	if err != nil {
		return 0, storeErr(err, "list accounts", nil)
	}
	names := make(map[string]*autho.Account, len(as))
	for _, a := range as {
		names[a.ID] = a
		if a.Status == autho.AccountSuspended {
			continue
		}
		typ, kind, th := noticeOf(a.ExpiresAt, now, accountThresholds, autho.EventAccountExpiring, autho.EventAccountExpired)
		if typ == "" {
			continue
		}
		if err := tell(autho.Notice{ThingID: a.ID, Kind: kind, Due: a.ExpiresAt}, func() (*autho.Event, error) {
			mail, err := s.adminsOf(ctx, a.ID)
			return newEvent(typ, now, a.ID, autho.EventData{Account: autho.EventAccountOf(a), Threshold: th}, mail), err
		}); err != nil {
			return made, err
		}
	}
	ts, err := s.Store.APITokens(ctx, autho.TokenFilter{Expiring: &autho.TimeRange{
		From: now.Add(-expiredLookback), To: now.Add(tokenThresholds[len(tokenThresholds)-1].before),
	}})
	if err != nil {
		return made, storeErr(err, "list expiring tokens", nil)
	}
	for _, t := range ts {
		typ, kind, th := noticeOf(t.ExpiresAt, now, tokenThresholds, autho.EventAPITokenExpiring, autho.EventAPITokenExpired)
		if typ == "" {
			continue
		}
		if err := tell(autho.Notice{ThingID: t.ID, Kind: kind, Due: t.ExpiresAt}, func() (*autho.Event, error) {
			mail, err := s.ownerOf(ctx, t.UserID)
			d := autho.EventData{Token: autho.EventTokenOf(t), Threshold: th}
			if a := names[t.AccountID]; a != nil {
				d.Account = autho.EventAccountOf(a)
			}
			return newEvent(typ, now, t.AccountID, d, mail), err
		}); err != nil {
			return made, err
		}
	}
	n, err := s.noticeInvitations(ctx, now)
	return made + n, err
}

// noticeOf says which event an expiry at exp calls for at now: expired
// (within the lookback), expiring at the nearest threshold passed, or none
// ("").
func noticeOf(exp, now time.Time, ths []threshold, expiring, expired autho.EventType) (typ autho.EventType, kind, th string) {
	left := exp.Sub(now)
	if left <= 0 {
		if -left > expiredLookback {
			return "", "", ""
		}
		return expired, string(expired), ""
	}
	for _, t := range ths {
		if left <= t.before {
			return expiring, string(expiring) + ":" + t.name, t.name
		}
	}
	return "", "", ""
}

// notice records n with the event ev makes, unless it is recorded already
// (by this node, another, or before a restart): then it reports false and
// the event goes nowhere.
func (s *Service) notice(ctx context.Context, n autho.Notice, ev func() (*autho.Event, error)) (bool, error) {
	key := n.ThingID + " " + n.Kind + " " + n.Due.String()
	if _, ok := s.noticed.Load(key); ok {
		return false, nil
	}
	e, err := ev()
	if err != nil && !errors.Is(err, autho.ErrNotFound) {
		return false, err
	}
	ok, err := s.Store.RecordNotice(ctx, n, e)
	if err != nil {
		return false, storeErr(err, "record notice", nil)
	}
	s.noticed.Store(key, n.Due)
	return ok, nil
}
