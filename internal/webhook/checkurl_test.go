package webhook

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// offlineResolver answers from /etc/hosts (localhost) and fails every DNS
// query instead of sending it, so these tests never leave the machine.
func offlineResolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no DNS in tests")
		},
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name         string
		url          string
		allowPrivate bool
		// wantErr holds pieces of the expected error, in order, separated
		// by "…"; "" means accepted.
		wantErr string
		private bool // the error is ErrPrivateAddress
	}{
		{name: "public https", url: "https://93.184.215.14/hooks/autho?x=1"},
		{name: "public http with port", url: "http://93.184.215.14:8443/hooks"},
		{name: "public IPv6", url: "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/"},
		{name: "uppercase scheme", url: "HTTPS://93.184.215.14/"},

		{name: "loopback", url: "https://127.0.0.1/", wantErr: "the URL's host is 127.0.0.1, a loopback address; webhooks go only to public addresses unless AUTHO_WEBHOOK_ALLOW_PRIVATE is set", private: true},
		{name: "loopback elsewhere in 127/8", url: "https://127.8.9.10/", wantErr: "a loopback address", private: true},
		{name: "metadata", url: "http://169.254.169.254/latest/meta-data/", wantErr: "169.254.169.254, the cloud metadata address", private: true},
		{name: "link-local", url: "http://169.254.1.1/", wantErr: "a link-local address", private: true},
		{name: "private 10/8", url: "https://10.0.0.1/", wantErr: "10.0.0.1, a private address", private: true},
		{name: "private 172.16/12", url: "https://172.31.255.1/", wantErr: "a private address", private: true},
		{name: "private 192.168/16", url: "https://192.168.1.1/", wantErr: "a private address", private: true},
		{name: "CGNAT", url: "https://100.64.0.1/", wantErr: "carrier-grade NAT", private: true},
		{name: "unspecified", url: "https://0.0.0.0/", wantErr: "an unspecified address", private: true},
		{name: "multicast", url: "https://224.0.0.1/", wantErr: "a multicast address", private: true},
		{name: "broadcast", url: "https://255.255.255.255/", wantErr: "broadcast", private: true},
		{name: "IPv6 loopback", url: "https://[::1]/", wantErr: "::1, a loopback address", private: true},
		{name: "IPv6 unspecified", url: "https://[::]/", wantErr: "an unspecified address", private: true},
		{name: "IPv4-mapped loopback", url: "https://[::ffff:127.0.0.1]/", wantErr: "::ffff:127.0.0.1, a loopback address", private: true},
		{name: "IPv4-mapped metadata", url: "https://[::ffff:169.254.169.254]/", wantErr: "the cloud metadata address", private: true},
		{name: "IPv6 link-local with zone", url: "https://[fe80::1%25eth0]/", wantErr: "a link-local address", private: true},
		{name: "IPv6 unique local", url: "https://[fd00:ec2::254]/", wantErr: "unique local", private: true},
		{name: "name resolving to loopback", url: "http://localhost:1/", wantErr: "the URL's host resolves to …, a loopback address; webhooks go only to public addresses unless AUTHO_WEBHOOK_ALLOW_PRIVATE is set", private: true}, // 127.0.0.1 or ::1, as /etc/hosts says

		{name: "loopback allowed", url: "http://127.0.0.1:8080/hook", allowPrivate: true},
		{name: "IPv6 loopback allowed", url: "http://[::1]:8080/hook", allowPrivate: true},
		{name: "localhost allowed", url: "http://localhost:8080/hook", allowPrivate: true},

		{name: "userinfo", url: "https://user:hunter2@93.184.215.14/", wantErr: "user name or password"},
		{name: "user only", url: "https://user@93.184.215.14/", wantErr: "user name or password"},
		{name: "userinfo even when private is allowed", url: "http://user:hunter2@127.0.0.1/", allowPrivate: true, wantErr: "user name or password"},
		{name: "ftp", url: "ftp://93.184.215.14/", wantErr: "https:// or http://"},
		{name: "javascript", url: "javascript:alert(1)", wantErr: "https:// or http://"},
		{name: "relative", url: "/hooks", wantErr: "https:// or http://"},
		{name: "no host", url: "https:///hooks", wantErr: "must name a host"},
		{name: "opaque", url: "https:93.184.215.14", wantErr: "must name a host"},
		{name: "unparsable", url: "https://93.184.215.14:port/", wantErr: "cannot be parsed"},
		{name: "too long", url: "https://93.184.215.14/" + strings.Repeat("a", 2000), wantErr: "the most is 2000"},
		{name: "name that does not resolve", url: "https://hooks.example.invalid/", wantErr: "cannot be resolved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckURL(context.Background(), tt.url, tt.allowPrivate, offlineResolver())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckURL = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckURL = nil, want an error with %q", tt.wantErr)
			}
			msg := err.Error()
			rest := msg
			for _, piece := range strings.Split(tt.wantErr, "…") {
				_, after, found := strings.Cut(rest, piece)
				if !found {
					t.Errorf("CheckURL = %q, want it to hold %q", msg, tt.wantErr)
					break
				}
				rest = after
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("CheckURL error is more than one line: %q", msg)
			}
			if strings.Contains(msg, "hunter2") || strings.Contains(msg, "/hooks") || strings.Contains(msg, "meta-data") {
				t.Errorf("CheckURL error quotes the URL: %q", msg)
			}
			if tt.private {
				if !errors.Is(err, ErrPrivateAddress) {
					t.Errorf("CheckURL error is not ErrPrivateAddress: %v", err)
				}
				if !strings.Contains(msg, AllowPrivateSetting) {
					t.Errorf("CheckURL error does not name %s: %q", AllowPrivateSetting, msg)
				}
			}
		})
	}
}

// A name may resolve to several addresses and the dialer may use any of
// them, so one private address among public ones is enough to refuse.
func TestCheckResolved(t *testing.T) {
	addrs := func(ss ...string) []netip.Addr {
		var as []netip.Addr
		for _, s := range ss {
			as = append(as, netip.MustParseAddr(s))
		}
		return as
	}
	tests := []struct {
		name  string
		addrs []netip.Addr
		want  string
	}{
		{name: "all public", addrs: addrs("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")},
		{name: "private last", addrs: addrs("93.184.215.14", "8.8.8.8", "10.1.2.3"), want: "10.1.2.3, a private address"},
		{name: "loopback first", addrs: addrs("127.0.0.1", "93.184.215.14"), want: "127.0.0.1, a loopback address"},
		{name: "IPv6 private among public", addrs: addrs("2606:4700::1111", "fc00::1"), want: "fc00::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkResolved(tt.addrs)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("checkResolved = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("checkResolved = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	public := []string{"93.184.215.14", "8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255", "169.253.255.255", "2606:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8"}
	for _, s := range public {
		if what := classify(netip.MustParseAddr(s)); what != "" {
			t.Errorf("classify(%s) = %q, want public", s, what)
		}
	}
	private := []string{"127.0.0.1", "127.255.255.255", "0.0.0.0", "0.1.2.3", "10.255.255.255", "100.64.0.0", "100.127.255.255", "169.254.169.254", "172.16.0.0", "172.31.255.255", "192.168.0.0", "224.0.0.251", "239.255.255.250", "255.255.255.255", "::", "::1", "fe80::1", "febf::1", "fec0::1", "fc00::1", "fdff::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:0.0.0.0"}
	for _, s := range private {
		if what := classify(netip.MustParseAddr(s)); what == "" {
			t.Errorf("classify(%s) = public, want refused", s)
		}
	}
}
