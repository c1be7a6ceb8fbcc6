package main

import (
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

// masterKeyLen is the size of the key that seals signing keys at rest
// (AES-256).
const masterKeyLen = 32

// masterKeyEnv names the variable in messages; its value never appears in
// one.
const masterKeyEnv = "AUTHO_MASTER_KEY"

// masterKey returns the key that encrypts private signing keys at rest:
// AUTHO_MASTER_KEY when set; otherwise, for SQLite, the key kept in the file
// "<db>.masterkey" beside the database, made on first use (created reports
// that, so serve can log it). That file and its directory must be this
// user's alone, since a key someone else planted or can read opens every
// signing key. PostgreSQL has no file beside it that every
// node could share, so there the key must be given.
func (a *app) masterKey(db string) (key []byte, created bool, err error) {
	if v := strings.TrimSpace(a.getenv(masterKeyEnv)); v != "" {
		key, err := decodeMasterKey(v)
		if err != nil {
			return nil, false, fmt.Errorf("%s must be the standard base64 encoding of exactly %d random bytes (e.g. from: openssl rand -base64 32)", masterKeyEnv, masterKeyLen)
		}
		return key, false, nil
	}
	if isPostgres(db) {
		return nil, false, fmt.Errorf("%s is required with PostgreSQL (make one with: openssl rand -base64 32)", masterKeyEnv)
	}
	if strings.TrimSpace(db) == "" {
		return nil, false, errors.New("--db must not be empty")
	}
	path := db + ".masterkey"
	if err := privateDir(filepath.Dir(path)); err != nil {
		return nil, false, err
	}
	return masterKeyFile(path)
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

func decodeMasterKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) != masterKeyLen {
		return nil, errors.New("bad key")
	}
	return key, nil
}

// masterKeyFile reads the key file at path, or creates it. The key is
// written and synced to a temporary file first, then linked into place:
// the link is atomic and fails if the name exists, so when two processes
// start at once exactly one key wins, and no reader ever sees a partly
// written file.
func masterKeyFile(path string) ([]byte, bool, error) {
	key, err := readMasterKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".masterkey-*")
	if err != nil {
		return nil, false, fmt.Errorf("create master key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	key = make([]byte, masterKeyLen)
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
