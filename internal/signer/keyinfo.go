package signer

import "slices"

// Algorithm is the algorithm of the keys this keyring makes.
func (k *Keyring) Algorithm() string { return k.alg }

// ServedByOther describes the key the servers sign with, as far as the
// store shows, when its algorithm is not this keyring's: then a key this
// keyring rotates in would be replaced within seconds by every server still
// configured with the other, and stay published beside it for nothing. The
// servers' key is the newest not yet retired, since a server replaces any
// other within a refresh or two.
func (k *Keyring) ServedByOther() (KeyInfo, bool) {
	keys := k.snap.Load().keys
	for i := len(keys) - 1; i >= 0; i-- {
		if keys[i].RetiredAt.IsZero() {
			return keys[i], keys[i].Algorithm != k.alg
		}
	}
	return KeyInfo{}, false
}

// Keys describes every stored key, oldest first, as of the last refresh.
func (k *Keyring) Keys() []KeyInfo { return slices.Clone(k.snap.Load().keys) }

// Current describes the key this keyring signs with, as of the last
// refresh; false when it has none.
func (k *Keyring) Current() (KeyInfo, bool) {
	for _, ki := range k.snap.Load().keys {
		if ki.State == StateSigning {
			return ki, true
		}
	}
	return KeyInfo{}, false
}
