package signer

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
)

// MasterKeyLen is the size of the master key that seals signing keys at
// rest (AES-256).
const MasterKeyLen = 32

// ErrNoKeyFile is returned by KeyFile.Load when the file does not exist and
// the database holds no signing key yet: nothing is lost, but a reader may
// not make the file.
var ErrNoKeyFile = errors.New("master key file does not exist yet")

// ErrKeyFileLost is the cause of Load's and LoadOrCreate's error when the
// file is missing and the database holds signing keys it sealed.
var ErrKeyFileLost = errors.New("a new key would not open them")

var errKeyFileContent = errors.New("it does not hold a base64 32-byte key")

// DecodeMasterKey reads a master key as it is written: the standard base64
// encoding of exactly MasterKeyLen bytes.
func DecodeMasterKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) != MasterKeyLen {
		return nil, errors.New("bad key")
	}
	return key, nil
}

// KeyFile is a master key kept in a file of its own, for a deployment that
// was not given one. The file and its directory must be this user's alone,
// since a key someone else planted or can read opens every signing key.
//
// Settling the key takes two steps: OpenKeyFile, before the database is
// opened, so that a refusal makes nothing; then Load or LoadOrCreate on the
// open database.
type KeyFile struct {
	path string
	key  []byte // nil: the file did not exist when opened
}

// OpenKeyFile checks the key file's directory, and reads the file at path
// if it exists.
func OpenKeyFile(path string) (*KeyFile, error) {
	if err := privateDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	key, err := readKeyFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return &KeyFile{path: path, key: key}, nil
}

// Path is where the key file is, or is to be.
func (f *KeyFile) Path() string { return f.path }

// Load returns the key. A missing file is an error: ErrNoKeyFile when keys
// holds no signing key yet.
func (f *KeyFile) Load(ctx context.Context, keys KeyStore) ([]byte, error) {
	key, _, err := f.load(ctx, keys, false)
	return key, err
}

// LoadOrCreate returns the key, making the file with a new key if it is
// missing and keys holds no signing key: keys sealed under a lost master key
// cannot be opened with a new one, so a new file would only hide the loss
// (and let a server sign beside them). created reports that the file was
// made, so that the caller can say so.
func (f *KeyFile) LoadOrCreate(ctx context.Context, keys KeyStore) (key []byte, created bool, err error) {
	return f.load(ctx, keys, true)
}

// LoadOrCreateLost returns the key, making the file with a new key if it
// is missing, whatever the database holds: for autho keys reset, once the
// operator has said the key that sealed the stored signing keys is lost.
func (f *KeyFile) LoadOrCreateLost() (key []byte, created bool, err error) {
	if f.key != nil {
		return f.key, false, nil
	}
	key, err = readKeyFile(f.path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	return createKeyFile(f.path)
}

func (f *KeyFile) load(ctx context.Context, keys KeyStore, create bool) ([]byte, bool, error) {
	if f.key != nil {
		return f.key, false, nil
	}
	// Another process may have made the file since OpenKeyFile looked.
	key, err := readKeyFile(f.path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	stored, err := keys.SigningKeys(ctx)
	if err != nil {
		return nil, false, err
	}
	if len(stored) > 0 {
		return nil, false, fmt.Errorf("master key file %s is missing, and without it the database's %d signing key(s) cannot be opened: restore it from the backup of the database (%w)",
			f.path, len(stored), ErrKeyFileLost)
	}
	if !create {
		return nil, false, ErrNoKeyFile
	}
	return createKeyFile(f.path)
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
	const hint = "or give AUTHO_MASTER_KEY"
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

// createKeyFile makes the key file at path with a new random key. The key
// is on disk before anything is sealed with it (writePrivateFile syncs it),
// and the file is linked into place, which fails if the name exists: when
// two processes start at once exactly one key wins and the other reads it.
func createKeyFile(path string) ([]byte, bool, error) {
	key := make([]byte, MasterKeyLen)
	rand.Read(key) // never fails (crypto/rand since Go 1.24)
	err := writePrivateFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), false)
	if errors.Is(err, fs.ErrExist) {
		key, err := readKeyFile(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("create master key file: %w", err)
	}
	return key, true, nil
}

func readKeyFile(path string) ([]byte, error) {
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
	key, err := DecodeMasterKey(strings.TrimSpace(string(b)))
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
