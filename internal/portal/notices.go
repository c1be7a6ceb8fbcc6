package portal

import (
	"fmt"
	"slices"
	"time"

	"github.com/autho/autho"
)

// The words of the countdowns and token notices. Which notices a token has
// is autho's rule (APIToken.Notices); how they read is the portal's, as the
// SPEC quotes them: "expires in 5 days", "never used", "unused for 90 days".

// inDays says when a day comes, from calendar days ahead (autho.CalendarDays).
func inDays(days int) string {
	switch days {
	case 0:
		return "today"
	case 1:
		return "tomorrow"
	}
	return fmt.Sprintf("in %d days", days)
}

// agoDays says when a day was, from calendar days back.
func agoDays(days int) string {
	switch days {
	case 0:
		return "today"
	case 1:
		return "yesterday"
	}
	return fmt.Sprintf("%d days ago", days)
}

// noticeText words one notice.
func noticeText(n autho.TokenNotice) string {
	switch n.Kind {
	case autho.NoticeExpiring:
		return "expires " + inDays(n.Days)
	case autho.NoticeNeverUsed:
		return "never used"
	case autho.NoticeUnused:
		return fmt.Sprintf("unused for %d days", n.Days)
	}
	return string(n.Kind)
}

// tokenNotice is one notice as a row shows it: a badge.
type tokenNotice struct {
	Kind string // an autho.TokenNoticeKind, for the badge's class
	Text string
}

func (p *Portal) tokenNotices(t *autho.APIToken, now time.Time) []tokenNotice {
	var out []tokenNotice
	for _, n := range t.Notices(now, p.cfg.Location) {
		out = append(out, tokenNotice{string(n.Kind), noticeText(n)})
	}
	return out
}

// expiringFirst orders a token list with the tokens expiring within
// autho.TokenExpiringWithin first, soonest first, and the rest after them
// in the order they came (newest first). Every list is ordered so, an
// admin's of the whole account and a member's own alike: what stops
// soonest is what to look at first, whoever looks.
func expiringFirst(ts []*autho.APIToken, now time.Time) {
	slices.SortStableFunc(ts, func(a, b *autho.APIToken) int {
		sa, sb := a.ExpiringSoon(now), b.ExpiringSoon(now)
		switch {
		case sa && sb:
			return a.ExpiresAt.Compare(b.ExpiresAt)
		case sa:
			return -1
		case sb:
			return 1
		}
		return 0
	})
}

// countdown says how far off an expiry is, in the days of loc:
// "expires in 12 days", "expires today", "expired 3 days ago".
func countdown(expires, now time.Time, loc *time.Location) string {
	if !now.Before(expires) {
		return "expired " + agoDays(autho.CalendarDays(expires, now, loc))
	}
	return "expires " + inDays(autho.CalendarDays(now, expires, loc))
}
