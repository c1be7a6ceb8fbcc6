package autho

import "errors"

// Errors a Store returns. Callers test them with errors.Is.
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("already exists")
	ErrUnavailable = errors.New("database unavailable")
	// ErrLimit is a create refused by the limit given with it
	// (CreateAPITokenCapped's cap).
	ErrLimit = errors.New("limit reached")
	// ErrUnchanged, returned by an Update method's fn, says there is
	// nothing to change: the update writes nothing (its entries neither)
	// and returns the row as read, with a nil error.
	ErrUnchanged = errors.New("unchanged")
)

// Error is an answer of the contract: a result code and the message partners
// see. The HTTP status for each code is chosen in one place, internal/wire.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + " " + e.Message }

// The contract's answers, by result code. Their text is the contract: do not
// reword them.
var (
	ErrMissingTokens       = &Error{"01", `Must include "partner_token" and "api_token"`}
	ErrInvalidPartnerToken = &Error{"02", "Invalid Partner Token"}
	ErrAccountExpired      = &Error{"03", "Account is Expired"}
	ErrInvalidAPIToken     = &Error{"04", "Invalid API Token"}
	ErrAPITokenExpired     = &Error{"05", "API Token Expired"}
	ErrWrongAccount        = &Error{"06", "Unable to log in with provided credentials."}
	ErrInvalidUser         = &Error{"07", "Invalid User"}
	ErrMalformedBody       = &Error{"08", "Malformed request body"}
	ErrTooManyRequests     = &Error{"09", "Too many requests"}
	ErrMethodNotAllowed    = &Error{"10", "Method not allowed"}
	ErrBodyTooLarge        = &Error{"11", "Request body too large"}
	ErrNotFoundRoute       = &Error{"12", "Not found"}
	ErrUnsupportedMedia    = &Error{"13", "Unsupported media type"}
	ErrServiceUnavailable  = &Error{"14", "Service unavailable"}
	ErrNoCredentials       = &Error{"15", "Authentication credentials were not provided."}
	ErrInvalidBearer       = &Error{"16", "Invalid or expired token"}
	ErrInsufficientScope   = &Error{"17", "Insufficient scope"} // bearer.RequireScope's; not in the contract's table
	ErrInternal            = &Error{"99", "Internal error"}
)
