// Package signer holds autho's JWT signing keys: it makes them, seals their
// private parts with the master key before they reach a Store, signs login
// JWTs with the current key, and publishes the public keys as a JWKS
// document.
//
// Every server node keeps a Keyring: an in-memory, immutable snapshot of the
// keys in the store, swapped atomically on each refresh, so that signing and
// serving the JWKS never wait for the database and never decrypt anything.
// Rotation is coordinated through the store alone: whoever adds a key (a
// node, or the CLI in another process) retires the older ones, and every
// keyring that refreshes picks the same current key.
//
// The master key is given to the process, or kept in a KeyFile beside a
// SQLite database: made once, with the first signing key, and refused if
// anyone but its owner could have read or planted it.
package signer
