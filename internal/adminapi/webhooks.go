package adminapi

import (
	"net/http"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/view"
)

// createWebhook adds an endpoint; its signing secret is in this answer
// only.
func (h *handler) createWebhook(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	var req struct {
		URL    string            `json:"url"`
		Events []autho.EventType `json:"events"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	e, plain, err := h.svc.CreateWebhook(r.Context(), by, req.URL, req.Events)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, view.WebhookOf(e, plain))
}

func (h *handler) listWebhooks(w http.ResponseWriter, r *http.Request, _ autho.Actor) error {
	es, err := h.svc.Webhooks(r.Context())
	if err != nil {
		return err
	}
	return replyPage(w, r, es, func(e *autho.WebhookEndpoint) (time.Time, string) { return e.CreatedAt, e.ID },
		func(e *autho.WebhookEndpoint) view.Webhook { return view.WebhookOf(e, "") })
}

func (h *handler) getWebhook(w http.ResponseWriter, r *http.Request, _ autho.Actor) error {
	e, err := h.svc.Webhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, view.WebhookOf(e, ""))
}

// disableWebhook stops deliveries to the endpoint; disabling it again
// answers it as it is.
func (h *handler) disableWebhook(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	if err := noBody(r); err != nil {
		return err
	}
	e, err := h.svc.DisableWebhook(r.Context(), by, r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, view.WebhookOf(e, ""))
}

func (h *handler) deleteWebhook(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	if err := h.svc.DeleteWebhook(r.Context(), by, r.PathValue("id")); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listDeliveries pages through the endpoint's deliveries, newest first.
func (h *handler) listDeliveries(w http.ResponseWriter, r *http.Request, _ autho.Actor) error {
	ds, err := h.svc.Deliveries(r.Context(), r.PathValue("id"), 0)
	if err != nil {
		return err
	}
	return replyPage(w, r, ds, func(d *autho.Delivery) (time.Time, string) { return d.CreatedAt, d.ID },
		func(d *autho.Delivery) view.Delivery { return view.DeliveryOf(d, nil) })
}

// getDelivery answers a delivery with its attempts.
func (h *handler) getDelivery(w http.ResponseWriter, r *http.Request, _ autho.Actor) error {
	d, as, err := h.svc.Delivery(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, view.DeliveryOf(d, as))
}

// retryDelivery sends a failed delivery again.
func (h *handler) retryDelivery(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	if err := noBody(r); err != nil {
		return err
	}
	d, err := h.svc.RetryDelivery(r.Context(), by, r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, view.DeliveryOf(d, nil))
}

// noBody refuses a body on an action that takes none, other than an empty
// JSON object.
func noBody(r *http.Request) error {
	if r.ContentLength == 0 {
		return nil
	}
	var none struct{}
	return decode(r, &none)
}
