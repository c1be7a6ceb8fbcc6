package signer

import (
	"context"
	"errors"
	"fmt"
)

// masterKeyEnv names the variable in messages; its value never appears in
// one.
const masterKeyEnv = "AUTHO_MASTER_KEY"

// MasterKey is the key that seals private signing keys at rest: given (by
// AUTHO_MASTER_KEY), or kept in a KeyFile.
type MasterKey struct {
	key  []byte
	file *KeyFile // nil when the key was given
}

// FindMasterKey finds the master key: encoded (AUTHO_MASTER_KEY's value)
// when set; otherwise the key file at file, read now if it exists
// (OpenKeyFile). file is "" where no file can serve, as beside a PostgreSQL
// database, which every node shares: there the key must be given. It runs
// before the database is opened, so that a refusal makes nothing; Open
// finishes the work.
func FindMasterKey(encoded, file string) (*MasterKey, error) {
	if encoded != "" {
		key, err := DecodeMasterKey(encoded)
		if err != nil {
			return nil, fmt.Errorf("%s must be the standard base64 encoding of exactly %d random bytes (e.g. from: openssl rand -base64 32)", masterKeyEnv, MasterKeyLen)
		}
		return &MasterKey{key: key}, nil
	}
	if file == "" {
		return nil, fmt.Errorf("%s is required with PostgreSQL (make one with: openssl rand -base64 32)", masterKeyEnv)
	}
	f, err := OpenKeyFile(file)
	if err != nil {
		return nil, err
	}
	return &MasterKey{file: f}, nil
}

// File is the key file's path, "" when the key was given.
func (m *MasterKey) File() string {
	if m.file == nil {
		return ""
	}
	return m.file.Path()
}

// KeyFileUse says whether a command may make a missing key file.
type KeyFileUse int

const (
	ReadKeyFile   KeyFileUse = iota // every command but serve, migrate and keys reset
	CreateKeyFile                   // serve and migrate, on a database without signing keys
	LostKeyFile                     // keys reset: the key that sealed the signing keys is lost
)

// Open returns the key, on the open database st. Only CreateKeyFile may
// make a missing key file, and then only on a database without signing
// keys (KeyFile.LoadOrCreate); LostKeyFile makes one whatever the database
// holds (KeyFile.LoadOrCreateLost). created reports that the file was
// made, so that the caller can say so.
func (m *MasterKey) Open(ctx context.Context, st KeyStore, use KeyFileUse) (key []byte, created bool, err error) {
	switch {
	case m.file == nil:
		return m.key, false, nil
	case use == LostKeyFile:
		return m.file.LoadOrCreateLost()
	case use == CreateKeyFile:
		key, created, err = m.file.LoadOrCreate(ctx, st)
		return key, created, m.Explain(err)
	}
	key, err = m.file.Load(ctx, st)
	if errors.Is(err, ErrNoKeyFile) {
		return nil, false, fmt.Errorf("master key file %s does not exist yet: \"autho migrate\" or \"autho serve\" makes it", m.file.Path())
	}
	return key, false, m.Explain(err)
}

// lostHint is the way on when the master key that sealed the signing keys
// is gone for good.
const lostHint = "if it is lost for good, \"autho keys reset --i-have-lost-the-master-key\" makes new signing keys (every JWT issued before then stops verifying)"

// Explain says, of an error opening the stored signing keys, where the
// master key was expected or came from, and the way on: only the operator
// knows whether the right key can still be found.
func (m *MasterKey) Explain(err error) error {
	switch {
	case errors.Is(err, ErrKeyFileLost):
		return fmt.Errorf("%w; %s", err, lostHint)
	case !errors.Is(err, ErrWrongMasterKey):
		return err
	case m.file == nil:
		return fmt.Errorf("%s does not open the database's signing keys, which were sealed with another master key: give that one, or, %s", masterKeyEnv, lostHint)
	}
	return fmt.Errorf("the master key in %s does not open the database's signing keys, which were sealed with another: restore the file they were sealed with from the backup of the database, or, %s", m.file.Path(), lostHint)
}
