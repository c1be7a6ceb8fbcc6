package main

import (
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// oddRequest is one request of a flood meant to grow the metrics and the
// log: a method and path the client made up.
type oddRequest struct{ method, path string }

// knownMethods are the methods of RFC 9110 (with PATCH); any other is made
// up.
func knownMethods() []string {
	return []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}
}

const randomMethodBytes = 16 << 10

// randomMethod is a valid HTTP method (a token) that no server knows.
func randomMethod(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('A' + rand.IntN(26))
	}
	return string(b)
}

func randomSegment() string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 24)
	for i := range b {
		b[i] = chars[rand.IntN(len(chars))]
	}
	return string(b)
}

// oddRequests makes requests to each of paths with known methods and
// made-up ones, long and short; a path ending in "/" gets a random segment
// added. With n == 0 it makes one of every kind, so that every series a
// flood can reach exists before the flood; otherwise n picked at random.
func oddRequests(paths []string, n int) []oddRequest {
	kinds := append(knownMethods(), "long", "short")
	one := func(path, kind string) oddRequest {
		m := kind
		switch kind {
		case "long":
			m = randomMethod(randomMethodBytes)
		case "short":
			m = randomMethod(12)
		}
		if strings.HasSuffix(path, "/") {
			path += randomSegment()
		}
		return oddRequest{m, path}
	}
	var out []oddRequest
	if n == 0 {
		for _, p := range paths {
			for _, k := range kinds {
				out = append(out, one(p, k))
			}
		}
		return out
	}
	for range n {
		out = append(out, one(paths[rand.IntN(len(paths))], kinds[rand.IntN(len(kinds))]))
	}
	return out
}

// sendAll sends every request at once over real connections, with auth as
// the Authorization header when set, and waits for every answer.
func sendAll(t *testing.T, base, auth string, reqs []oddRequest) {
	t.Helper()
	var wg sync.WaitGroup
	for _, rq := range reqs {
		wg.Go(func() {
			req, err := http.NewRequest(rq.method, base+rq.path, nil)
			if err != nil {
				t.Errorf("request %.20s %s: %v", rq.method, rq.path, err)
				return
			}
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Errorf("%.20s… %s: %v", rq.method, rq.path, err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		})
	}
	wg.Wait()
}

// madeUp lists the made-up methods and random path segments of reqs: what
// must never become a label value or a log field.
func madeUp(reqs []oddRequest) []string {
	var out []string
	for _, rq := range reqs {
		if !slices.Contains(knownMethods(), rq.method) {
			out = append(out, rq.method[:12])
		}
		if i := strings.LastIndexByte(rq.path, '/'); len(rq.path)-i-1 == 24 {
			out = append(out, rq.path[i+1:])
		}
	}
	return out
}

// wantNoneIn fails if text holds any of the made-up values.
func wantNoneIn(t *testing.T, what, text string, values []string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(text, v) {
			t.Errorf("%s holds the made-up %q…", what, v)
			return
		}
	}
}

// metricsSeries is the set of series /metrics exports: each sample line's
// name and labels, without its value.
func metricsSeries(t *testing.T, ts *testServer) map[string]bool {
	t.Helper()
	r := ts.do("GET", "/metrics", "", nil)
	if r.Status != 200 {
		t.Fatalf("/metrics: %d", r.Status)
	}
	set := map[string]bool{}
	for _, line := range strings.Split(string(r.Body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			set[line[:i]] = true
		}
	}
	return set
}

// TestMetrics_BoundedLabels: a flood of requests with made-up methods (16 KB
// ones too) and random paths, in parallel, adds no series to /metrics and no
// made-up value to the log. A method is a standard one or "other", a route
// a pattern of the server's.
func TestMetrics_BoundedLabels(t *testing.T) {
	ts := startServer(t, nil)
	paths := []string{"/", "/v1/autho/", "/portal/", "/.well-known/", "/v1/autho/apitoken/login/", "/healthz"}
	warmUp := oddRequests(paths, 0)
	sendAll(t, ts.url, "", warmUp)
	metricsSeries(t, ts) // so that /metrics's own series exists too
	before := metricsSeries(t, ts)

	flood := oddRequests(paths, 50)
	sendAll(t, ts.url, "", flood)
	after := metricsSeries(t, ts)

	var added []string
	for s := range after {
		if !before[s] {
			added = append(added, s)
		}
	}
	if len(added) > 0 {
		t.Errorf("%d series before the flood, %d after; new ones include %.200s", len(before), len(after), added[0])
	}
	labelValue := regexp.MustCompile(`(method|route)="((?:[^"\\]|\\.)*)"`)
	for s := range after {
		for _, m := range labelValue.FindAllStringSubmatch(s, -1) {
			switch m[1] {
			case "method":
				if m[2] != "other" && !slices.Contains(knownMethods(), m[2]) {
					t.Fatalf("method label %.40q…", m[2])
				}
			case "route":
				if m[2] != "unmatched" && !strings.HasPrefix(m[2], "/") {
					t.Fatalf("route label %.40q…", m[2])
				}
			}
		}
	}
	odd := madeUp(append(warmUp, flood...))
	wantNoneIn(t, "/metrics", strings.Join(slices.Collect(maps.Keys(after)), "\n"), odd)
	log := ts.log.String()
	wantNoneIn(t, "the log", log, odd)
	if !strings.Contains(log, `"method":"other"`) {
		t.Errorf(`no request was logged with method "other"`)
	}
}
