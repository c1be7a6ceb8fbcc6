package webhook

import (
	"errors"
	"net/netip"
)

// AllowPrivateSetting is the setting that lets webhooks reach private
// addresses (for tests and single-network installs); errors name it so the
// operator knows what to change.
const AllowPrivateSetting = "AUTHO_WEBHOOK_ALLOW_PRIVATE"

// ErrPrivateAddress is matched (errors.Is) by every refusal of an address that
// is not public, from CheckURL or from a Sender's dial.
var ErrPrivateAddress = errors.New("webhook: the address is not public")

// notPublic lists what a webhook must never reach: a webhook URL is chosen by
// whoever can make an endpoint, and without this list it would let them make
// autho call its own admin port, the cloud's metadata service or the
// database. Order matters: the first prefix that holds an address names it.
var notPublic = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/32"), "an unspecified address"},
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`}, // Linux connects 0.x to the host itself
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("169.254.169.254/32"), "the cloud metadata address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved or broadcast address"},
	{netip.MustParsePrefix("::/128"), "an unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local) address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
}

// classify says what kind of non-public address a is, or "" when a is public.
// An IPv4-mapped IPv6 address (::ffff:127.0.0.1) reaches the IPv4 address it
// holds, so it is judged as that address.
func classify(a netip.Addr) string {
	// Prefix.Contains is false for any address with a zone, so drop it:
	// fe80::1%eth0 is as link-local as fe80::1.
	a = a.WithZone("").Unmap()
	if !a.IsValid() {
		return "not an IP address"
	}
	for _, p := range notPublic {
		if p.prefix.Contains(a) {
			return p.what
		}
	}
	return ""
}

// privateError is a refusal with a message that says why and how to allow it.
type privateError struct{ msg string }

func (e *privateError) Error() string        { return e.msg }
func (e *privateError) Is(target error) bool { return target == ErrPrivateAddress }

// refuse makes the one-line refusal from the sentence's start, which says
// what was refused and why ("the URL's host resolves to 127.0.0.1, a loopback
// address").
func refuse(why string) error {
	return &privateError{why + "; webhooks go only to public addresses unless " + AllowPrivateSetting + " is set"}
}
