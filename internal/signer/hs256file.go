package signer

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// ErrNoHS256Key is returned by ExportHS256 when no HS256 key is published.
var ErrNoHS256Key = errors.New("no HS256 key is published")

// secretJWK is an HS256 secret as a JWK of kty "oct" (RFC 7518 §6.4). Exp,
// our own member, is when a replaced key stops verifying: a verifier that
// is not given a newer file still stops trusting it then.
type secretJWK struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	K   string `json:"k"`
	Exp int64  `json:"exp,omitempty"`
}

// ExportHS256 writes every HS256 secret that may still verify a token to
// path, newest first, as the JSON Web Key Set that bearer.NewSecretFile
// reads, and returns their ids. The file is written beside path (mode 0600)
// and renamed into place, so a verifier re-reading it never sees half of
// it. An existing file is refused unless replace: it may be someone else's.
func (k *Keyring) ExportHS256(path string, replace bool) ([]string, error) {
	var ids []string
	set := struct {
		Keys []secretJWK `json:"keys"`
	}{}
	infos := k.Keys()
	slices.Reverse(infos)
	for _, ki := range infos {
		secret, ok := k.HS256Secret(ki.ID)
		if !ok {
			continue // not HS256, or no longer published
		}
		j := secretJWK{Kty: "oct", Use: "sig", Alg: HS256, Kid: ki.ID, K: base64.RawURLEncoding.EncodeToString(secret)}
		clear(secret)
		if !ki.VerifyUntil.IsZero() {
			j.Exp = ki.VerifyUntil.Unix()
		}
		set.Keys = append(set.Keys, j)
		ids = append(ids, ki.ID)
	}
	if len(ids) == 0 {
		return nil, ErrNoHS256Key
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	return ids, writePrivateFile(path, append(b, '\n'), replace)
}

// writePrivateFile puts data at path, readable by this user only. It is
// written and synced to a temporary file in the same directory first, then
// renamed over path (replace) or linked to it, which fails with fs.ErrExist
// if path exists: either way no reader ever sees a partly written file.
func writePrivateFile(path string, data []byte, replace bool) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if replace {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path)
	}
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", path, fs.ErrExist)
		}
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}
