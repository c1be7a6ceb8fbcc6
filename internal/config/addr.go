package config

import (
	"net"
	"net/netip"
	"strings"
)

// Unspecified reports whether the listen address addr (host:port) is on
// every interface: no host, 0.0.0.0 or [::]. An issuer derived from it
// names no host a client could reach.
func Unspecified(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return host == "" || (err == nil && ip.IsUnspecified())
}

// Loopback reports whether the listen address addr (host:port) is reached
// only from this machine: localhost or a loopback IP.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
