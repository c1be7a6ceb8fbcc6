package portal

import (
	"strings"
	"testing"
)

// TestSafeNext: the page to return to after signing in is kept only when a
// browser following it is sure to land on that portal page; anything a
// browser or a proxy could read differently falls back to the token list.
func TestSafeNext(t *testing.T) {
	const home = "/portal/tokens"
	tests := []struct {
		name string
		next string
		want string
	}{
		{"a portal page is kept", "/portal/tokens", "/portal/tokens"},
		{"a page with an id is kept", "/portal/tokens/tok_0123456789abcdefghij/revoke", "/portal/tokens/tok_0123456789abcdefghij/revoke"},
		{"the account page is kept", "/portal/account", "/portal/account"},

		{"empty goes home", "", home},
		{"another site, scheme-relative", "//evil.example", home},
		{"another site, absolute", "https://evil.example/portal/", home},
		{"a backslash that browsers read as a slash", "/\\evil", home},
		{"a backslash inside the portal", "/portal/\\evil.example", home},
		{"outside the portal", "/v1/autho/me/", home},
		{"the portal prefix without its slash", "/portalx", home},
		{"dot-dot out of the portal", "/portal/../admin", home},
		{"encoded dot-dot", "/portal/%2e%2e/admin", home},
		{"encoded dot-dot in capitals", "/portal/%2E%2E/admin", home},
		{"one encoded dot", "/portal/.%2e/admin", home},
		{"encoded slash", "/portal/%2f%2fevil.example", home},
		{"encoded slash in capitals", "/portal/%2F/evil.example", home},
		{"encoded backslash", "/portal/%5cevil.example", home},
		{"a single dot segment", "/portal/./tokens", home},
		{"a doubled slash", "/portal//evil.example", home},
		{"a tab", "/portal/\tfoo", home},
		{"a tab that browsers strip into //", "/portal/\t/evil.example", home},
		{"a line feed", "/portal/tokens\nSet-Cookie: x=y", home},
		{"a carriage return", "/portal/tokens\r", home},
		{"a NUL", "/portal/tokens\x00", home},
		{"DEL", "/portal/tokens\x7f", home},
		{"an encoded tab", "/portal/%09foo", home},
		{"an encoded line feed", "/portal/tokens%0aSet-Cookie:x", home},
		{"an encoded carriage return", "/portal/tokens%0D", home},
		{"an encoded NUL", "/portal/tokens%00", home},
		{"a query", "/portal/tokens?x=1", home},
		{"a fragment", "/portal/tokens#x", home},
		{"a space", "/portal/tok ens", home},
		{"non-ASCII", "/portal/tökens", home},
		{"the login page itself", "/portal/login", home},
		{"the logout page", "/portal/logout", home},
		{"the portal root", "/portal/", home},
		{"too long", "/portal/" + strings.Repeat("a", 300), home},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := safeNext(tt.next); got != tt.want {
				t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
			}
		})
	}
}
