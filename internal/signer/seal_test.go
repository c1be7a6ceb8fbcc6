package signer

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func newMasterKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func mustSealer(tb testing.TB, masterKey []byte) *Sealer {
	tb.Helper()
	s, err := NewSealer(masterKey)
	if err != nil {
		tb.Fatalf("NewSealer: %v", err)
	}
	return s
}

func TestNewSealer_KeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer(%d bytes) = nil error, want one", n)
		}
	}
}

func TestSealer(t *testing.T) {
	const id = "key_0123456789abcdefghij"
	plaintext := []byte("a private key, or near enough")
	s := mustSealer(t, newMasterKey())

	t.Run("round trip", func(t *testing.T) {
		sealed := s.Seal(id, plaintext)
		if len(sealed) != 12+len(plaintext)+16 {
			t.Errorf("sealed length = %d, want nonce + plaintext + tag = %d", len(sealed), 12+len(plaintext)+16)
		}
		if bytes.Contains(sealed, plaintext) {
			t.Error("sealed blob contains the plaintext")
		}
		got, err := s.Open(id, sealed)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plaintext) {
			t.Fatalf("Open = %q, want %q", got, plaintext)
		}
	})
	t.Run("fresh nonce", func(t *testing.T) {
		a, b := s.Seal(id, plaintext), s.Seal(id, plaintext)
		if bytes.Equal(a[:12], b[:12]) || bytes.Equal(a, b) {
			t.Fatal("two seals of the same plaintext share a nonce")
		}
	})
	t.Run("tampered", func(t *testing.T) {
		sealed := s.Seal(id, plaintext)
		for _, i := range []int{0, 12, len(sealed) - 1} { // nonce, ciphertext, tag
			bad := bytes.Clone(sealed)
			bad[i] ^= 1
			if _, err := s.Open(id, bad); err == nil {
				t.Errorf("Open with byte %d flipped = nil error", i)
			}
		}
		if _, err := s.Open(id, sealed[:20]); err == nil {
			t.Error("Open of a truncated blob = nil error")
		}
	})
	t.Run("wrong master key", func(t *testing.T) {
		sealed := s.Seal(id, plaintext)
		_, err := mustSealer(t, newMasterKey()).Open(id, sealed)
		if err == nil {
			t.Fatal("Open with another master key = nil error")
		}
		want := "cannot decrypt signing key " + id + ": it was sealed with another master key"
		if err.Error() != want || !errors.Is(err, ErrWrongMasterKey) {
			t.Fatalf("error = %q, want %q (ErrWrongMasterKey)", err, want)
		}
	})
	t.Run("moved to another key", func(t *testing.T) {
		sealed := s.Seal(id, plaintext)
		_, err := s.Open("key_ANOTHERKEYANOTHERKE", sealed)
		if err == nil {
			t.Fatal("Open under another key id = nil error")
		}
		if strings.Contains(err.Error(), string(plaintext)) {
			t.Fatalf("error reveals the plaintext: %v", err)
		}
	})
}
