package gateway

import (
	"net/http"
	"slices"
	"testing"
)

func TestStripAuthoHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string // header names, as written
		kept []string
	}{
		{"ours", []string{HeaderUser, HeaderAccount, HeaderToken, HeaderScope}, nil},
		{"any letter case", []string{"x-autho-user", "X-AUTHO-ACCOUNT", "x-AuThO-admin"}, nil},
		{"underscores for dashes", []string{"X_Autho_User", "x_autho-token", "X-Autho_Scope"}, nil},
		{"others", []string{"Authorization", "X-Authorization", "X-Autho", "X-AuthoUser", "X-Auth-User", "Autho-User"},
			[]string{"Authorization", "X-Authorization", "X-Autho", "X-AuthoUser", "X-Auth-User", "Autho-User"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, k := range tc.in {
				h[k] = []string{"v"} // not canonicalised, as a client may send it
			}
			stripAuthoHeaders(h)
			var kept []string
			for k := range h {
				kept = append(kept, k)
			}
			slices.Sort(kept)
			want := slices.Sorted(slices.Values(tc.kept))
			if !slices.Equal(kept, want) {
				t.Fatalf("kept %v, want %v", kept, want)
			}
		})
	}
}
