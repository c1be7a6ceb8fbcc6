package mail

import (
	"fmt"
	"strings"
	"testing"
)

// password is in every URL below that has one; no error or String may show it.
const password = "Sup3r-s3cret_pw"

func TestParseURL(t *testing.T) {
	enc := "p%40ss%3Aw%2Frd%20" + password
	tests := []struct {
		name, raw string
		want      Config
	}{
		{"smtp default port", "smtp://mail.example.com", Config{Host: "mail.example.com", Port: 587}},
		{"smtp port", "smtp://mail.example.com:2525", Config{Host: "mail.example.com", Port: 2525}},
		{"smtps default port", "smtps://mail.example.com", Config{Host: "mail.example.com", Port: 465, ImplicitTLS: true}},
		{"smtps port", "smtps://mail.example.com:4650", Config{Host: "mail.example.com", Port: 4650, ImplicitTLS: true}},
		{"scheme case", "SMTP://mail.example.com", Config{Host: "mail.example.com", Port: 587}},
		{"user and password", "smtp://apikey:" + password + "@mail.example.com:587", Config{Host: "mail.example.com", Port: 587, Username: "apikey", Password: password}},
		{"user only", "smtp://relay@mail.example.com", Config{Host: "mail.example.com", Port: 587, Username: "relay"}},
		{"decoded", "smtps://me%40example.com" + ":" + enc + "@mail.example.com", Config{Host: "mail.example.com", Port: 465, ImplicitTLS: true, Username: "me@example.com", Password: "p@ss:w/rd " + password}},
		{"ipv6", "smtp://[::1]:2525", Config{Host: "::1", Port: 2525}},
		{"trailing slash", "smtp://mail.example.com/", Config{Host: "mail.example.com", Port: 587}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURL(tt.raw)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if got != tt.want {
				// %v hides the password, so say whether it matched.
				t.Fatalf("got %v, want %v (password right: %v)", got, tt.want, got.Password == tt.want.Password)
			}
			for _, s := range []string{got.String(), fmt.Sprint(got), fmt.Sprintf("%v %+v %#v %s", got, got, got, got)} {
				if strings.Contains(s, password) {
					t.Errorf("formatted config shows the password: %s", s)
				}
			}
		})
	}
}

func TestParseURL_errors(t *testing.T) {
	tests := []struct{ name, raw string }{
		{"empty", ""},
		{"blank", "  "},
		{"no scheme", "user:" + password + "@mail.example.com:587"},
		{"password as scheme", password + "://mail.example.com"},
		{"http", "http://user:" + password + "@mail.example.com"},
		{"smtp+tls", "smtp+tls://user:" + password + "@mail.example.com"},
		{"opaque", "smtp:user:" + password + "@mail.example.com"},
		{"no host", "smtp://user:" + password + "@"},
		{"no host with port", "smtp://user:" + password + "@:25"},
		{"port not a number", "smtp://user:" + password + "@mail.example.com:abc"},
		{"port zero", "smtp://user:" + password + "@mail.example.com:0"},
		{"port too big", "smtp://user:" + password + "@mail.example.com:65536"},
		{"empty port", "smtp://user:" + password + "@mail.example.com:"},
		{"path", "smtp://user:" + password + "@mail.example.com/x"},
		{"query", "smtp://user:" + password + "@mail.example.com?tls=1"},
		{"empty query", "smtp://user:" + password + "@mail.example.com?"},
		{"fragment", "smtp://user:" + password + "@mail.example.com#x"},
		{"password without user", "smtp://:" + password + "@mail.example.com"},
		{"unencoded space", "smtp://user:" + password + " x@mail.example.com"},
		{"bad escape", "smtp://user:" + password + "%zz@mail.example.com"},
		{"control character", "smtp://user:" + password + "\x7f@mail.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseURL(tt.raw)
			if err == nil {
				t.Fatalf("ParseURL(%q) = %v, want an error", tt.raw, c)
			}
			if strings.Contains(err.Error(), password) {
				t.Fatalf("the error shows the password: %v", err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("the error is not one line: %q", err)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "localhost.": true,
		"127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"mail.example.com": false, "10.0.0.1": false, "::": false, "localhost.example.com": false, "0.0.0.0": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
