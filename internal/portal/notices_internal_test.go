package portal

import (
	"testing"
	"time"

	"github.com/autho/autho"
)

func TestNoticeText(t *testing.T) {
	for _, tc := range []struct {
		n    autho.TokenNotice
		want string
	}{
		{autho.TokenNotice{Kind: autho.NoticeExpiring, Days: 0}, "expires today"},
		{autho.TokenNotice{Kind: autho.NoticeExpiring, Days: 1}, "expires tomorrow"},
		{autho.TokenNotice{Kind: autho.NoticeExpiring, Days: 5}, "expires in 5 days"},
		{autho.TokenNotice{Kind: autho.NoticeNeverUsed}, "never used"},
		{autho.TokenNotice{Kind: autho.NoticeUnused, Days: 90}, "unused for 90 days"},
	} {
		if got := noticeText(tc.n); got != tc.want {
			t.Errorf("noticeText(%+v) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestCountdown(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		expires time.Time
		want    string
	}{
		{now.Add(12 * 24 * time.Hour), "expires in 12 days"},
		{now.Add(13 * time.Hour), "expires tomorrow"},
		{now.Add(time.Microsecond), "expires today"},
		{now, "expired today"},
		{now.Add(-13 * time.Hour), "expired yesterday"},
		{now.Add(-3 * 24 * time.Hour), "expired 3 days ago"},
	} {
		if got := countdown(tc.expires, now, time.UTC); got != tc.want {
			t.Errorf("countdown(%s) = %q, want %q", tc.expires, got, tc.want)
		}
	}
}
