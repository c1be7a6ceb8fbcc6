package signer

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// settleKeyFile settles the key file beside the database of db as serve
// does: both steps, the file made if it may be.
func settleKeyFile(db *testDB) (key []byte, created bool, err error) {
	f, err := OpenKeyFile(db.path + ".masterkey")
	if err != nil {
		return nil, false, err
	}
	return f.LoadOrCreate(context.Background(), db.store)
}

func TestKeyFile(t *testing.T) {
	t.Run("created then read", func(t *testing.T) {
		db := newTestDB(t)
		key, created, err := settleKeyFile(db)
		if err != nil || !created || len(key) != 32 {
			t.Fatalf("first LoadOrCreate = %d bytes, created %v, %v", len(key), created, err)
		}
		info, err := os.Stat(db.path + ".masterkey")
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %04o, want 0600", info.Mode().Perm())
		}
		again, created, err := settleKeyFile(db)
		if err != nil || created || !bytes.Equal(again, key) {
			t.Fatalf("second LoadOrCreate = created %v, %v, same key %v", created, err, bytes.Equal(again, key))
		}
	})

	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		msg     string
	}{
		{"readable by others", base64.StdEncoding.EncodeToString(make([]byte, 32)), 0o644, "chmod 600"},
		{"readable by group", base64.StdEncoding.EncodeToString(make([]byte, 32)), 0o640, "chmod 600"},
		{"short key", base64.StdEncoding.EncodeToString(make([]byte, 16)), 0o600, "base64 32-byte key"},
		{"garbage", "hello", 0o600, "base64 32-byte key"},
		{"empty", "", 0o600, "base64 32-byte key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.mode != 0o600 {
				t.Skip("no Unix permissions")
			}
			db := newTestDB(t)
			if err := os.WriteFile(db.path+".masterkey", []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(db.path+".masterkey", tt.mode); err != nil { // past the umask
				t.Fatal(err)
			}
			_, _, err := settleKeyFile(db)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("LoadOrCreate = %v, want an error containing %q", err, tt.msg)
			}
			if tt.content != "" && strings.Contains(err.Error(), tt.content) {
				t.Fatal("error repeats the file's content")
			}
		})
	}

	t.Run("read only by owner is fine", func(t *testing.T) {
		db := newTestDB(t)
		want := bytes.Repeat([]byte{9}, 32)
		if err := os.WriteFile(db.path+".masterkey", []byte(base64.StdEncoding.EncodeToString(want)+"\n"), 0o400); err != nil {
			t.Fatal(err)
		}
		key, created, err := settleKeyFile(db)
		if err != nil || created || !bytes.Equal(key, want) {
			t.Fatalf("LoadOrCreate = %x, %v, %v", key, created, err)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "no", "such", "autho.db.masterkey")
		if _, err := OpenKeyFile(path); err == nil {
			t.Fatal("OpenKeyFile accepted a key it could not store")
		}
	})
}

// TestKeyFile_Missing: a missing file is made only by LoadOrCreate, and
// only while the database holds no signing key; with keys in it, the file
// is said to be missing and never replaced.
func TestKeyFile_Missing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		keys   bool // the database holds a signing key
		create bool // LoadOrCreate rather than Load
		made   bool
		want   string // "": no error; "not yet": ErrNoKeyFile; else in the error, besides the path
	}{
		{name: "Load, no signing keys", want: "not yet"},
		{name: "LoadOrCreate, no signing keys", create: true, made: true},
		{name: "Load, signing keys", keys: true, want: "is missing"},
		{name: "LoadOrCreate, signing keys", keys: true, create: true, want: "is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newTestDB(t)
			if tc.keys {
				mustEnsureKey(t, db.keyring(t, ES256))
			}
			path := db.path + ".masterkey"
			f, err := OpenKeyFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var key []byte
			var created bool
			if tc.create {
				key, created, err = f.LoadOrCreate(context.Background(), db.store)
			} else {
				key, err = f.Load(context.Background(), db.store)
			}
			switch tc.want {
			case "":
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			case "not yet":
				if !errors.Is(err, ErrNoKeyFile) {
					t.Fatalf("err = %v, want ErrNoKeyFile", err)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want one naming %s and saying %q", err, path, tc.want)
				}
			}
			if created != tc.made || (len(key) == MasterKeyLen) != tc.made {
				t.Fatalf("created %v with a %d-byte key, want made %v", created, len(key), tc.made)
			}
			if _, err := os.Stat(path); (err == nil) != tc.made {
				t.Fatalf("key file exists: %v, want %v", err == nil, tc.made)
			}
		})
	}
}

// Processes starting together must agree on one key: exactly one creates
// the file, the rest read it.
func TestKeyFile_ConcurrentFirstStart(t *testing.T) {
	db := newTestDB(t)
	const n = 16
	keys := make([][]byte, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], created[i], errs[i] = settleKeyFile(db) })
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("LoadOrCreate #%d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatal("two different master keys")
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Fatalf("%d callers created the key, want 1", creators)
	}
}
