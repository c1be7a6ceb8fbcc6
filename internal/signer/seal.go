package signer

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
)

// ErrWrongMasterKey is the cause of an error opening a sealed key with a
// master key other than the one it was sealed with. The error does not say
// where the key came from (AUTHO_MASTER_KEY or a key file): the caller does.
var ErrWrongMasterKey = errors.New("it was sealed with another master key")

// Sealer encrypts private key material with the master key
// (AUTHO_MASTER_KEY), so that the database never holds a usable private key.
//
// A sealed blob is a random 12-byte nonce followed by the AES-256-GCM
// ciphertext and tag. The key id is authenticated as additional data, so a
// blob copied onto another key row does not open: whoever can write to the
// database cannot make a known key sign or verify under another id.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte master key.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != 32 {
		return nil, fmt.Errorf("master key must be 32 bytes, not %d", len(masterKey))
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, err
	}
	// A random nonce per seal: keys are sealed rarely, so the 2^32 limit on
	// random 96-bit nonces for one key is out of reach.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext for the key with the given id.
func (s *Sealer) Seal(id string, plaintext []byte) []byte {
	return s.aead.Seal(nil, nil, plaintext, []byte(id))
}

// Open decrypts a blob sealed for the key with the given id. Its error never
// carries key material; the likely cause, a master key other than the one
// that sealed the key, is ErrWrongMasterKey.
func (s *Sealer) Open(id string, sealed []byte) ([]byte, error) {
	// Overhead counts the prepended nonce and the tag.
	if len(sealed) < s.aead.Overhead() {
		return nil, fmt.Errorf("cannot decrypt signing key %s: sealed key is truncated", id)
	}
	plaintext, err := s.aead.Open(nil, nil, sealed, []byte(id))
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt signing key %s: %w", id, ErrWrongMasterKey)
	}
	return plaintext, nil
}
