package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
)

// MaxURLLength is the longest webhook URL accepted.
const MaxURLLength = 2000

// CheckURL says whether raw may be a webhook endpoint's URL: an absolute
// http:// or https:// URL with a host, no user name or password (they would
// be shown in every listing), at most MaxURLLength characters, whose host
// resolves, and, unless allowPrivate, to public addresses only: one private
// address among several is enough to refuse, since the dialer may pick it.
// r resolves the host (nil means net.DefaultResolver); an IP literal is used
// as it is.
//
// This is a check for the operator's benefit at creation time. It does not by
// itself protect the send, since DNS can answer differently later; Sender
// checks every connection again.
//
// Errors are one line meant for the operator. They never quote the URL, whose
// path or query may hold a receiver's own token.
func CheckURL(ctx context.Context, raw string, allowPrivate bool, r *net.Resolver) error {
	if len(raw) > MaxURLLength {
		return fmt.Errorf("the URL is %d characters long; the most is %d", len(raw), MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL, so say only that it is not one.
		return errors.New("the URL cannot be parsed; it must look like https://host/path")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("the URL must start with https:// or http://")
	}
	if u.User != nil {
		return errors.New("the URL must not hold a user name or password: it would be shown wherever endpoints are listed; receivers verify the signature instead")
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("the URL must name a host, as in https://host/path")
	}

	if a, err := netip.ParseAddr(host); err == nil {
		if allowPrivate {
			return nil
		}
		if what := classify(a); what != "" {
			return refuse(fmt.Sprintf("the URL's host is %s, %s", a, what))
		}
		return nil
	}

	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		reason := err.Error()
		if dnsErr, ok := errors.AsType[*net.DNSError](err); ok {
			reason = dnsErr.Err // without the resolver's own address
		}
		return fmt.Errorf("the URL's host %s cannot be resolved: %s", host, reason)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("the URL's host %s has no address", host)
	}
	if allowPrivate {
		return nil
	}
	return checkResolved(addrs)
}

// checkResolved refuses when any of addrs is not public.
func checkResolved(addrs []netip.Addr) error {
	for _, a := range addrs {
		if what := classify(a); what != "" {
			// The resolver gives A records in IPv4-mapped form; the operator
			// knows them as 127.0.0.1, not ::ffff:127.0.0.1.
			return refuse(fmt.Sprintf("the URL's host resolves to %s, %s", a.Unmap(), what))
		}
	}
	return nil
}
