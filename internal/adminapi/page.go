package adminapi

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Page limits: the contract's.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// page is a listing's answer.
type page[V any] struct {
	Items      []V    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// replyPage answers one page of items, newest first by key (creation time,
// then id, both descending). The cursor is the key of the page's last
// item, so the next page starts strictly after it: rows added meanwhile are
// newer, so they come before every cursor and no page skips or repeats
// one.
func replyPage[T, V any](w http.ResponseWriter, r *http.Request, items []T, key func(T) (time.Time, string), viewOf func(T) V) error {
	limit, c, err := pageQuery(r)
	if err != nil {
		return err
	}
	after := func(T) bool { return true }
	if c != nil {
		after = func(it T) bool {
			t, i := key(it)
			return t.Before(c.at) || t.Equal(c.at) && i < c.id
		}
	}
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b T) int {
		ta, ia := key(a)
		tb, ib := key(b)
		return cmp.Or(tb.Compare(ta), strings.Compare(ib, ia))
	})
	out := page[V]{Items: make([]V, 0, min(limit, len(sorted)))}
	var last T
	for _, it := range sorted {
		if !after(it) {
			continue
		}
		if len(out.Items) == limit {
			t, id := key(last)
			out.NextCursor = makeCursor(t, id)
			break
		}
		out.Items = append(out.Items, viewOf(it))
		last = it
	}
	return reply(w, http.StatusOK, out)
}

// cursor is where a page starts: after the item of this key.
type cursor struct {
	at time.Time
	id string
}

// pageQuery reads a listing's limit and cursor (nil for the first page).
func pageQuery(r *http.Request) (limit int, c *cursor, err error) {
	q := r.URL.Query()
	limit = defaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return 0, nil, &badRequest{field: "limit", detail: fmt.Sprintf("limit must be a whole number from 1 to %d", maxLimit)}
		}
		limit = n
	}
	if s := q.Get("cursor"); s != "" {
		at, id, err := parseCursor(s)
		if err != nil {
			return 0, nil, &badRequest{field: "cursor", detail: "cursor is not one this API gave: start again without it"}
		}
		c = &cursor{at, id}
	}
	return limit, c, nil
}

// A cursor is opaque to clients (they must not parse it): base64url of
// "<unix microseconds>.<id>".
func makeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + "." + id))
}

func parseCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", err
	}
	us, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", fmt.Errorf("malformed cursor")
	}
	return time.UnixMicro(n), id, nil
}
