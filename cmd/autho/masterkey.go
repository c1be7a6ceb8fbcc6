package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/autho/autho"
)

// masterKeyLen is the size of the key that seals signing keys at rest
// (AES-256).
const masterKeyLen = 32

// masterKeyEnv names the variable in messages; its value never appears in
// one.
const masterKeyEnv = "AUTHO_MASTER_KEY"

// masterKey is the key that seals private signing keys at rest, or, for a
// key file that does not exist yet, where it is to be.
type masterKey struct {
	key  []byte
	file string // "<db>.masterkey" unless AUTHO_MASTER_KEY gave the key
}

// keyFileUse says whether a command may make a missing key file.
type keyFileUse int

const (
	readKeyFile   keyFileUse = iota // every command but serve and migrate
	createKeyFile                   // serve and migrate, on a database without signing keys
)

// signingKeyStore is what open needs of the database: whether it holds
// keys that a new master key could not open.
type signingKeyStore interface {
	SigningKeys(ctx context.Context) ([]*autho.SigningKey, error)
}

// masterKey finds the key that encrypts private signing keys at rest:
// AUTHO_MASTER_KEY when set; otherwise, for SQLite, the file "<db>.masterkey"
// beside the database, read now if it exists. That file and its directory
// must be this user's alone, since a key someone else planted or can read
// opens every signing key. PostgreSQL has no file beside it that every node
// could share, so there the key must be given. It runs before the database
// is opened, so that a refusal makes nothing; open finishes the work.
func (a *app) masterKey(db string) (*masterKey, error) {
	set, err := a.settings(masterKeyEnv)
	if err != nil {
		return nil, err
	}
	if v := set.MasterKey; v != "" {
		key, err := decodeMasterKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s must be the standard base64 encoding of exactly %d random bytes (e.g. from: openssl rand -base64 32)", masterKeyEnv, masterKeyLen)
		}
		return &masterKey{key: key}, nil
	}
	if isPostgres(db) {
		return nil, fmt.Errorf("%s is required with PostgreSQL (make one with: openssl rand -base64 32)", masterKeyEnv)
	}
	if strings.TrimSpace(db) == "" {
		return nil, errors.New("--db must not be empty")
	}
	m := &masterKey{file: masterKeyPath(db)}
	if err := privateDir(filepath.Dir(m.file)); err != nil {
		return nil, err
	}
	key, err := readMasterKeyFile(m.file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	m.key = key
	return m, nil
}

// open returns the key, on the open database st. A missing key file is
// made only for createKeyFile, and only if st holds no signing key: keys
// sealed under a lost master key cannot be opened with a new one, so a new
// file would only hide the loss (and let serve sign beside them). created
// reports that the file was made, so that the caller can say so.
func (m *masterKey) open(ctx context.Context, st signingKeyStore, use keyFileUse) (key []byte, created bool, err error) {
	if m.key != nil {
		return m.key, false, nil
	}
	// Another process may have made the file since masterKey looked.
	key, err = readMasterKeyFile(m.file)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	keys, err := st.SigningKeys(ctx)
	if err != nil {
		return nil, false, err
	}
	if len(keys) > 0 {
		return nil, false, fmt.Errorf("master key file %s is missing, and without it the database's %d signing key(s) cannot be opened: restore it from the backup of the database (a new key would not open them)",
			m.file, len(keys))
	}
	if use != createKeyFile {
		return nil, false, fmt.Errorf("master key file %s does not exist yet: \"autho migrate\" or \"autho serve\" makes it", m.file)
	}
	return createMasterKeyFile(m.file)
}

// privateDir refuses a directory for the key file that anyone but this user
// could write: whoever can create a file there can plant a key before the
// first start, and read every signing key later sealed with it, or swap the
// file afterwards. The sticky bit of a shared directory like /tmp is no
// help: it stops others removing a file, not planting one first.
func privateDir(dir string) error {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // "." would say little in a message
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("the database's directory: %w", err)
	}
	const hint = "or give " + masterKeyEnv
	if uid, ok := fileOwner(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("the database's directory %s belongs to uid %d, not to this user (uid %d): its owner could plant or replace the master key file there; keep the database in a directory of your own, %s",
			dir, uid, os.Geteuid(), hint)
	}
	perm := fi.Mode().Perm()
	if runtime.GOOS == "windows" || perm&0o022 == 0 {
		return nil
	}
	if fi.Mode()&fs.ModeSticky != 0 {
		return fmt.Errorf("the database's directory %s has mode %04o, a shared directory where anyone could have planted a master key file before the first start: keep the database in a directory only you can write, %s",
			dir, perm|0o1000, hint)
	}
	return fmt.Errorf("the database's directory %s has mode %04o, so users besides its owner could plant or replace the master key file there: chmod go-w %s, %s",
		dir, perm, dir, hint)
}

// masterKeyPath is the key file of the SQLite database db.
func masterKeyPath(db string) string { return db + ".masterkey" }

func decodeMasterKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) != masterKeyLen {
		return nil, errors.New("bad key")
	}
	return key, nil
}

// createMasterKeyFile makes the key file at path with a new random key. The
// key is written and synced to a temporary file first, then linked into
// place: the link is atomic and fails if the name exists, so when two
// processes start at once exactly one key wins (the other reads it), and no
// reader ever sees a partly written file.
func createMasterKeyFile(path string) ([]byte, bool, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".masterkey-*")
	if err != nil {
		return nil, false, fmt.Errorf("create master key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	key := make([]byte, masterKeyLen)
	rand.Read(key) // never fails (crypto/rand since Go 1.24)
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	}
	if err == nil {
		// Losing this file loses every sealed signing key, so it must be
		// on disk before anything is sealed with it.
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("write master key file %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			key, err := readMasterKeyFile(path)
			return key, false, err
		}
		return nil, false, fmt.Errorf("create master key file: %w", err)
	}
	syncDir(filepath.Dir(path))
	return key, true, nil
}

var errKeyFileContent = errors.New("it does not hold a base64 32-byte key")

func readMasterKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read master key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read master key file: %w", err)
	}
	// A key someone else made is known to them.
	if uid, ok := fileOwner(info); ok && uid != os.Geteuid() {
		return nil, fmt.Errorf("master key file %s belongs to uid %d, not to this user (uid %d): if you made it, chown %d %s; otherwise remove it, since its owner knows the key",
			path, uid, os.Geteuid(), os.Geteuid(), path)
	}
	// Unix permissions mean nothing on Windows, where the file's ACL
	// (inherited from its directory) decides.
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm&^0o600 != 0 {
		return nil, fmt.Errorf("master key file %s has mode %04o: it must be readable only by its owner (chmod 600 %s)", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("read master key file: %w", err)
	}
	key, err := decodeMasterKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, errKeyFileContent)
	}
	return key, nil
}

// syncDir makes a new file's directory entry durable. It is best effort:
// some systems cannot sync a directory, and the file itself is synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
