package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/autho/autho/internal/signer"
)

// masterKeyEnv names the variable in messages; its value never appears in
// one.
const masterKeyEnv = "AUTHO_MASTER_KEY"

// masterKey is the key that seals private signing keys at rest: given by
// AUTHO_MASTER_KEY, or kept in a key file beside a SQLite database.
type masterKey struct {
	key  []byte
	file *signer.KeyFile // nil when AUTHO_MASTER_KEY gave the key
}

// keyFileUse says whether a command may make a missing key file.
type keyFileUse int

const (
	readKeyFile   keyFileUse = iota // every command but serve and migrate
	createKeyFile                   // serve and migrate, on a database without signing keys
	lostKeyFile                     // keys reset: the key that sealed the signing keys is lost
)

// masterKey finds the key that encrypts private signing keys at rest:
// AUTHO_MASTER_KEY when set; otherwise, for SQLite, the file "<db>.masterkey"
// beside the database, read now if it exists (signer.OpenKeyFile).
// PostgreSQL has no file beside it that every node could share, so there
// the key must be given. It runs before the database is opened, so that a
// refusal makes nothing; open finishes the work.
func (a *app) masterKey(db string) (*masterKey, error) {
	set, err := a.settings(masterKeyEnv)
	if err != nil {
		return nil, err
	}
	if v := set.MasterKey; v != "" {
		key, err := signer.DecodeMasterKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s must be the standard base64 encoding of exactly %d random bytes (e.g. from: openssl rand -base64 32)", masterKeyEnv, signer.MasterKeyLen)
		}
		return &masterKey{key: key}, nil
	}
	if isPostgres(db) {
		return nil, fmt.Errorf("%s is required with PostgreSQL (make one with: openssl rand -base64 32)", masterKeyEnv)
	}
	if strings.TrimSpace(db) == "" {
		return nil, errors.New("--db must not be empty")
	}
	f, err := signer.OpenKeyFile(masterKeyPath(db))
	if err != nil {
		return nil, err
	}
	return &masterKey{file: f}, nil
}

// open returns the key, on the open database st. Only createKeyFile may
// make a missing key file, and signer makes it only on a database without
// signing keys. created reports that the file was made, so that the
// caller can say so.
func (m *masterKey) open(ctx context.Context, st signer.KeyStore, use keyFileUse) (key []byte, created bool, err error) {
	switch {
	case m.file == nil:
		return m.key, false, nil
	case use == lostKeyFile:
		return m.file.LoadOrCreateLost()
	case use == createKeyFile:
		key, created, err = m.file.LoadOrCreate(ctx, st)
		return key, created, m.explain(err)
	}
	key, err = m.file.Load(ctx, st)
	if errors.Is(err, signer.ErrNoKeyFile) {
		return nil, false, fmt.Errorf("master key file %s does not exist yet: \"autho migrate\" or \"autho serve\" makes it", m.file.Path())
	}
	return key, false, m.explain(err)
}

// lostHint is the way on when the master key that sealed the signing keys
// is gone for good.
const lostHint = "if it is lost for good, \"autho keys reset --i-have-lost-the-master-key\" makes new signing keys (every JWT issued before then stops verifying)"

// explain says, of an error opening the stored signing keys, where the
// master key was expected or came from, and the way on: only the operator
// knows whether the right key can still be found.
func (m *masterKey) explain(err error) error {
	switch {
	case errors.Is(err, signer.ErrKeyFileLost):
		return fmt.Errorf("%w; %s", err, lostHint)
	case !errors.Is(err, signer.ErrWrongMasterKey):
		return err
	case m.file == nil:
		return fmt.Errorf("%s does not open the database's signing keys, which were sealed with another master key: give that one, or, %s", masterKeyEnv, lostHint)
	}
	return fmt.Errorf("the master key in %s does not open the database's signing keys, which were sealed with another: restore the file they were sealed with from the backup of the database, or, %s", m.file.Path(), lostHint)
}

// masterKeyPath is the key file of the SQLite database db.
func masterKeyPath(db string) string { return db + ".masterkey" }
