package secretscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/wire"
)

// Path is the route GitHub is given for autho's alerts.
const Path = "/v1/autho/secret-scanning"

const (
	maxBody = 1 << 20
	// retryAfter is what GitHub is told to wait when a report could not be
	// handled; it retries a failed delivery.
	retryAfter = "60"
	// maxLoggedKeyID bounds the sender-chosen key id in a log line.
	maxLoggedKeyID = 128
)

// Reporter is what autho does about a leaked secret. Report is called once
// per distinct token of a verified report whose shape is autho's (an API or
// partner token with a good checksum); url is where GitHub found it (may be
// empty). It answers true when token is an autho secret, having revoked or
// flagged it.
//
// GitHub sends a report again when we fail, and may send one token in many
// reports, so Report must be idempotent, and should answer true again for a
// token it has already revoked for a leak so that every answer labels it
// alike. Its error must not carry the token: the handler logs it.
type Reporter interface {
	Report(ctx context.Context, token, url string) (bool, error)
}

// Handler answers POST /v1/autho/secret-scanning. A report that fails
// verification reaches nothing beyond the signature check and answers 401.
type Handler struct {
	Keys     *Keys
	Reporter Reporter
	Log      *slog.Logger
}

// match is one entry of GitHub's report.
type match struct {
	Token  *string `json:"token"`
	Type   string  `json:"type"`
	URL    string  `json:"url"`
	Source string  `json:"source"`
}

// feedback is one entry of our answer, GitHub's false-positive feedback:
// the token only as its SHA-256, never raw.
type feedback struct {
	TokenHash string `json:"token_hash"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"`
}

const (
	truePositive  = "true_positive"
	falsePositive = "false_positive"
)

// errUnverified is the 401 of a report that fails verification. The
// contract's table has no code for it; 18 is the next free one. GitHub reads
// only the status.
var errUnverified = &autho.Error{Code: "18", Message: "Report signature not verified"}

// ServeHTTP answers one report: 405, 413, 401 (not verified), 400 (not a
// report), 503 (keys or Reporter unavailable; GitHub retries) or 200 with
// the feedback array, in the order of the report.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		wire.Write(w, wire.Error(autho.ErrMethodNotAllowed))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			wire.Write(w, wire.Error(autho.ErrBodyTooLarge))
			return
		}
		wire.Write(w, wire.Error(autho.ErrMalformedBody))
		return
	}

	keyID := r.Header.Get("Github-Public-Key-Identifier")
	switch err := h.verify(r.Context(), keyID, r.Header.Get("Github-Public-Key-Signature"), body); {
	case errors.Is(err, ErrKeysUnavailable):
		// The report may well be GitHub's: ask it to come back.
		h.log().Warn("secret scanning report not verified: keys unavailable", "key_id", clip(keyID))
		unavailable(w)
		return
	case err != nil:
		h.log().Warn("secret scanning report refused", "key_id", clip(keyID), "reason", err.Error())
		writeStatus(w, http.StatusUnauthorized, errUnverified)
		return
	}

	matches, err := parseReport(body)
	if err != nil {
		h.log().Warn("secret scanning report malformed", "key_id", clip(keyID))
		wire.Write(w, wire.Error(autho.ErrMalformedBody))
		return
	}

	answer, positives, err := h.label(r.Context(), matches)
	if err != nil {
		h.log().Error("secret scanning report not handled", "key_id", clip(keyID),
			"tokens", len(matches), "err", redact(err, matches))
		unavailable(w)
		return
	}
	h.log().Info("secret scanning report", "key_id", clip(keyID),
		"tokens", len(matches), "true_positives", positives)
	b, err := json.Marshal(answer)
	if err != nil {
		wire.Write(w, wire.Error(autho.ErrInternal))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	wire.WriteJSON(w, http.StatusOK, b)
}

var (
	errNoKeyID     = errors.New("no key id")
	errNoSignature = errors.New("no signature")
	errBadEncoding = errors.New("signature not base64")
	errBadSig      = errors.New("signature does not match")
)

// verify checks the signature over the raw body, as GitHub signs it: a
// parsed and re-encoded body would not be the bytes signed.
func (h *Handler) verify(ctx context.Context, keyID, sig string, body []byte) error {
	if keyID == "" {
		return errNoKeyID
	}
	if sig == "" {
		return errNoSignature
	}
	der, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return errBadEncoding
	}
	pub, err := h.Keys.Key(ctx, keyID)
	if err != nil {
		return err
	}
	digest := sha256.Sum256(body)
	if !ecdsa.VerifyASN1(pub, digest[:], der) {
		return errBadSig
	}
	return nil
}

// label answers each match in order, asking the Reporter once per distinct
// token of autho's shape; positives counts the distinct live tokens. At the Reporter's first error it stops and fails
// the whole report: that error is the database being unreachable, so the
// rest would fail as slowly, and GitHub sends the report again, which
// Report's idempotence makes safe for the tokens already handled.
func (h *Handler) label(ctx context.Context, matches []match) ([]feedback, int, error) {
	answer := make([]feedback, len(matches))
	live := make(map[string]bool)
	positives := 0
	for i, m := range matches {
		tok := *m.Token
		isLive, seen := live[tok]
		if !seen {
			if shaped(tok) {
				var err error
				if isLive, err = h.Reporter.Report(ctx, tok, m.URL); err != nil {
					return nil, 0, err
				}
			}
			live[tok] = isLive
			if isLive {
				positives++
			}
		}
		sum := sha256.Sum256([]byte(tok))
		answer[i] = feedback{TokenHash: hex.EncodeToString(sum[:]), TokenType: m.Type, Label: falsePositive}
		if isLive {
			answer[i].Label = truePositive
		}
	}
	return answer, positives, nil
}

// shaped reports whether s is an API or partner token by its format alone
// (prefix, length, alphabet, checksum): the cheap check that keeps
// look-alikes from ever reaching the database.
func shaped(s string) bool {
	return secret.Check(secret.APIToken, s) == nil || secret.Check(secret.PartnerToken, s) == nil
}

// parseReport reads GitHub's report: a JSON array of objects, each with a
// string "token"; "type", "url" and "source" are strings when present.
func parseReport(body []byte) ([]match, error) {
	var matches []match
	if err := json.Unmarshal(body, &matches); err != nil {
		return nil, err
	}
	if matches == nil {
		return nil, errors.New("report is not an array")
	}
	for _, m := range matches {
		if m.Token == nil {
			return nil, errors.New("report entry without a string token")
		}
	}
	return matches, nil
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.New(slog.DiscardHandler)
}

func unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", retryAfter)
	wire.Write(w, wire.Error(autho.ErrServiceUnavailable))
}

func writeStatus(w http.ResponseWriter, status int, e *autho.Error) {
	b, _ := json.Marshal(wire.Error(e))
	wire.WriteJSON(w, status, b)
}

// clip bounds a sender-chosen string before it is logged.
func clip(s string) string {
	if len(s) > maxLoggedKeyID {
		return s[:maxLoggedKeyID] + "…"
	}
	return s
}

// redact is err's text with every reported token cut out, in case a
// Reporter's error quotes one despite its contract.
func redact(err error, matches []match) string {
	s := err.Error()
	for _, m := range matches {
		if t := *m.Token; len(t) >= 8 {
			s = strings.ReplaceAll(s, t, "[token]")
		}
	}
	return s
}
