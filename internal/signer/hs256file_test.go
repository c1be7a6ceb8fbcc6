package signer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/autho/autho/bearer"
)

type exported struct {
	Keys []struct {
		Kty, Use, Alg, Kid, K string
		Exp                   int64
	}
}

func readExport(t *testing.T, path string) exported {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e exported
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return e
}

func TestKeyring_ExportHS256(t *testing.T) {
	db := newTestDB(t)
	k := db.keyring(t, HS256)
	mustEnsureKey(t, k)
	first, _ := k.Current()
	db.clock.Add(time.Hour)
	second := mustRotate(t, k)
	path := filepath.Join(t.TempDir(), "hs256.jwks")

	ids, err := k.ExportHS256(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{second.ID, first.ID}; !slices.Equal(ids, want) {
		t.Fatalf("ids %q, want %q (newest first)", ids, want)
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o, want 0600", fi.Mode().Perm())
	}
	e := readExport(t, path)
	verifyUntil := k.Keys()[0].VerifyUntil
	if len(e.Keys) != 2 || e.Keys[0].Exp != 0 || e.Keys[1].Exp != verifyUntil.Unix() ||
		e.Keys[0].Kty != "oct" || e.Keys[0].Alg != HS256 || e.Keys[0].Use != "sig" {
		t.Fatalf("export %+v: want the current key without exp, then the replaced one with its end", e)
	}

	// What the export says is what bearer reads. (The replaced key is past
	// its exp by the wall clock bearer reads, not the test's.)
	secrets, err := bearer.NewSecretFile(path)
	if err != nil {
		t.Fatal(err)
	}
	alg, key, err := secrets.Key(context.Background(), second.ID)
	want, _ := k.HS256Secret(second.ID)
	if err != nil || alg != HS256 || string(key.([]byte)) != string(want) {
		t.Fatalf("bearer reads %s as %s, %v", second.ID, alg, err)
	}
	old, _ := k.HS256Secret(first.ID)
	if e.Keys[1].K != base64.RawURLEncoding.EncodeToString(old) {
		t.Fatal("the replaced key's secret is not exported")
	}

	t.Run("an existing file needs replace", func(t *testing.T) {
		before, _ := os.ReadFile(path)
		if _, err := k.ExportHS256(path, false); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("err %v, want fs.ErrExist", err)
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Fatal("the refused export changed the file")
		}
	})
	t.Run("a key past its end is left out", func(t *testing.T) {
		db.clock.Add(ttl + RetireGrace)
		mustRefresh(t, k)
		ids, err := k.ExportHS256(path, true)
		if err != nil || !slices.Equal(ids, []string{second.ID}) || len(readExport(t, path).Keys) != 1 {
			t.Fatalf("ids %q, %v: want the current key only", ids, err)
		}
	})
	t.Run("no HS256 key", func(t *testing.T) {
		es := newTestDB(t).keyring(t, ES256)
		mustEnsureKey(t, es)
		other := filepath.Join(t.TempDir(), "hs256.jwks")
		if _, err := es.ExportHS256(other, false); !errors.Is(err, ErrNoHS256Key) {
			t.Fatalf("err %v, want ErrNoHS256Key", err)
		}
		if _, err := os.Stat(other); err == nil {
			t.Fatal("a file was written")
		}
	})
}
