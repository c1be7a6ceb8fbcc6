package secretscan

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// FuzzReport holds the report parser to its promise: it accepts only a JSON
// array whose every element is an object with a string token, and what it
// accepts can always be answered.
func FuzzReport(f *testing.F) {
	f.Add([]byte(`[{"token":"autho_api_000000000000000000000000000000AAAAAA","type":"autho_api_token","url":"","source":"content"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"token":""}]`))
	f.Add([]byte(`[{"token":"x","TOKEN":"y"}]`))
	f.Add([]byte(`[{"token":"\ud800","type":null}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		matches, err := parseReport(body)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(body, &elems); err != nil || elems == nil {
			t.Fatalf("accepted a non-array %q", body)
		}
		if len(elems) != len(matches) {
			t.Fatalf("%d matches from %d elements", len(matches), len(elems))
		}
		for i, e := range elems {
			if e = bytes.TrimLeft(e, " \t\r\n"); len(e) == 0 || e[0] != '{' {
				t.Fatalf("element %d is not an object: %s", i, e)
			}
			if matches[i].Token == nil {
				t.Fatalf("element %d accepted without a token", i)
			}
		}
		// What is accepted can be answered, without the Reporter for
		// anything not of autho's shape.
		h := &Handler{Reporter: refuseAll{t}}
		answer, _, err := h.label(t.Context(), matches)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(answer); err != nil {
			t.Fatal(err)
		}
	})
}

// refuseAll is a Reporter that knows no token and fails the test when asked
// about a string that is not shaped like an autho token.
type refuseAll struct{ t *testing.T }

func (r refuseAll) Report(_ context.Context, token, _ string) (bool, error) {
	if !shaped(token) {
		r.t.Fatalf("Reporter asked about a string not shaped like a token")
	}
	return false, nil
}
