//go:build !unix

package signer

import "io/fs"

// fileOwner reports no owner: outside Unix a file's ACL, not a uid,
// decides who may read it.
func fileOwner(fs.FileInfo) (uid int, ok bool) { return 0, false }
