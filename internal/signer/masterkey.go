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

// Open returns the key, on the open database st. Only with create (serve
// and migrate) may a missing key file be made, and then only on a database
// without signing keys (KeyFile.LoadOrCreate). created reports that the
// file was made, so that the caller can say so.
func (m *MasterKey) Open(ctx context.Context, st KeyStore, create bool) (key []byte, created bool, err error) {
	switch {
	case m.file == nil:
		return m.key, false, nil
	case create:
		return m.file.LoadOrCreate(ctx, st)
	}
	key, err = m.file.Load(ctx, st)
	if errors.Is(err, ErrNoKeyFile) {
		return nil, false, fmt.Errorf("master key file %s does not exist yet: \"autho migrate\" or \"autho serve\" makes it", m.file.Path())
	}
	return key, false, err
}
