// Package autho holds the domain of the autho authentication server: accounts,
// users, partner and API tokens, signing keys, the Store they live in, and the
// errors the contract names. It imports nothing else of this module, so every
// other package (storage backends, the login exchange, the HTTP server, the
// portal, the CLI) can depend on it without cycles.
//
// Keep it to types, interfaces and errors: business rules live in the packages
// above the stores (internal/login, internal/admin), technology in the
// packages below.
package autho
