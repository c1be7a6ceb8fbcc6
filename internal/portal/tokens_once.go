package portal

import (
	"errors"
	"net/http"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// formNonceLen is the length of the create form's nonce: 22 base62
// characters, 131 bits.
const formNonceLen = 22

func newFormNonce() string { return secret.Random(formNonceLen) }

// formTokenID is the id of the token a create form makes when userID sends
// it: derived from the form's nonce, so that the form sent again (a reload
// of the new token's page) names the token already made instead of making
// another. The user is part of it so that a copy of someone else's form
// names nothing of theirs. A form without a well-formed nonce gives "": a
// fresh id.
func formTokenID(userID, nonce string) string {
	if len(nonce) != formNonceLen {
		return ""
	}
	for _, c := range []byte(nonce) {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return ""
		}
	}
	return secret.IDFrom("tok", []byte(userID+"\x00"+nonce))
}

// sentAgain answers a create form sent before: it shows the token made
// then, but never its secret again, which exists nowhere any more. It
// reports false, having written nothing, when id names no token of v.
func (p *Portal) sentAgain(w http.ResponseWriter, r *http.Request, v *visit, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	t, err := p.visibleToken(r.Context(), v, id)
	if errors.Is(err, errTokenNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p.render(w, r, http.StatusConflict, &tokenCreatedView{
		layout: p.layout(v, "Token already made", "tokens"),
		ID:     t.ID, Name: t.Name, Hint: t.Hint, Expires: t.ExpiresAt, Scopes: t.Scopes, Active: t.State(v.now) == autho.TokenActive,
	})
	return true, nil
}
