package adminapi

import (
	"context"
	"net/http"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/signer"
)

// Keys is what the admin API needs of this node's signing keys.
type Keys interface {
	Keys() []signer.KeyInfo
	Rotate(ctx context.Context, by autho.Actor) (*autho.SigningKey, error)
}

// listKeys answers every signing key with its state; they are few (one
// per rotation still published), so the list is not paged.
func (h *handler) listKeys(w http.ResponseWriter, _ *http.Request, _ autho.Actor) error {
	ks := h.keys.Keys()
	if ks == nil {
		ks = []signer.KeyInfo{}
	}
	return reply(w, http.StatusOK, page[signer.KeyInfo]{Items: ks})
}

// rotateKeys makes a new signing key of the configured algorithm, audited
// as the operator key; this node signs with it at once, the others within
// their refresh period.
func (h *handler) rotateKeys(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	key, err := h.keys.Rotate(r.Context(), by)
	if err != nil {
		return err
	}
	for _, ki := range h.keys.Keys() {
		if ki.ID == key.ID {
			return reply(w, http.StatusOK, ki)
		}
	}
	return reply(w, http.StatusOK, signer.KeyInfo{ID: key.ID, Algorithm: key.Algorithm, CreatedAt: key.CreatedAt.UTC(), State: signer.StateSigning})
}
