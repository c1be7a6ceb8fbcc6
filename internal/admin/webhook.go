package admin

import (
	"context"
	"errors"
	"net"
	"slices"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/webhook"
)

// Sealer seals with the master key the secrets the server must read back,
// so that cannot be hashes: a webhook endpoint's signing secret, a TOTP
// factor's secret. id is bound to the blob, which opens under no other.
type Sealer interface {
	Seal(id string, plaintext []byte) []byte
	Open(id string, sealed []byte) ([]byte, error)
}

// CreateWebhook adds an endpoint that receives the events of the types
// given (none: every type), and returns it with its whsec_ signing secret,
// shown this once. The URL must be http(s) and, unless
// WebhookAllowPrivate, reach only public addresses.
func (s *Service) CreateWebhook(ctx context.Context, by autho.Actor, url string, types []autho.EventType) (*autho.WebhookEndpoint, string, error) {
	if s.Sealer == nil {
		return nil, "", errors.New("admin: webhooks need the master key's sealer")
	}
	if err := webhook.CheckURL(ctx, url, s.WebhookAllowPrivate, net.DefaultResolver); err != nil {
		return nil, "", invalid("url", "%s", err.Error())
	}
	var clean []autho.EventType
	for _, t := range types {
		if !slices.Contains(autho.EventTypes, t) {
			return nil, "", invalid("events", "%q is not an event type; the types are listed in the README", string(t))
		}
		if !slices.Contains(clean, t) {
			clean = append(clean, t)
		}
	}
	plain, err := webhook.NewSecret()
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	e := &autho.WebhookEndpoint{ID: secret.NewID("whk"), URL: url, Events: clean, CreatedAt: now}
	e.SealedSecret = s.Sealer.Seal(e.ID, []byte(plain))
	a, err := audit(by, now, autho.AuditWebhookCreate, "", e.ID, e.URL)
	if err != nil {
		return nil, "", err
	}
	if err := s.Store.CreateWebhookEndpoint(ctx, e, a); err != nil {
		return nil, "", storeErr(err, "create webhook endpoint", nil)
	}
	return e, plain, nil
}

// Webhook returns one endpoint.
func (s *Service) Webhook(ctx context.Context, id string) (*autho.WebhookEndpoint, error) {
	id, err := checkID("webhook", "whk", id)
	if err != nil {
		return nil, err
	}
	e, err := s.Store.WebhookEndpoint(ctx, id)
	if err != nil {
		return nil, storeErr(err, "read webhook endpoint", notFound("webhook", "webhook endpoint %s not found", id))
	}
	return e, nil
}

// Webhooks lists every endpoint, newest first.
func (s *Service) Webhooks(ctx context.Context) ([]*autho.WebhookEndpoint, error) {
	es, err := s.Store.WebhookEndpoints(ctx)
	if err != nil {
		return nil, storeErr(err, "list webhook endpoints", nil)
	}
	return es, nil
}

// DisableWebhook stops deliveries to the endpoint: pending ones fail when
// their turn comes. Disabling a disabled endpoint changes nothing.
func (s *Service) DisableWebhook(ctx context.Context, by autho.Actor, id string) (*autho.WebhookEndpoint, error) {
	id, err := checkID("webhook", "whk", id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	a, err := audit(by, now, autho.AuditWebhookDisable, "", id, "")
	if err != nil {
		return nil, err
	}
	e, err := s.Store.UpdateWebhookEndpoint(ctx, id, func(e *autho.WebhookEndpoint) error {
		if !e.DisabledAt.IsZero() {
			return autho.ErrUnchanged
		}
		e.DisabledAt = now
		a.TargetName = e.URL
		return nil
	}, a)
	if err != nil {
		return nil, storeErr(err, "disable webhook endpoint", notFound("webhook", "webhook endpoint %s not found", id))
	}
	return e, nil
}

// DeleteWebhook removes the endpoint with its deliveries.
func (s *Service) DeleteWebhook(ctx context.Context, by autho.Actor, id string) error {
	e, err := s.Webhook(ctx, id)
	if err != nil {
		return err
	}
	a, err := audit(by, s.now(), autho.AuditWebhookDelete, "", e.ID, e.URL)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteWebhookEndpoint(ctx, e.ID, a); err != nil {
		return storeErr(err, "delete webhook endpoint", notFound("webhook", "webhook endpoint %s not found", id))
	}
	return nil
}

// Deliveries lists the endpoint's deliveries, newest first, at most limit
// (0: all).
func (s *Service) Deliveries(ctx context.Context, endpointID string, limit int) ([]*autho.Delivery, error) {
	e, err := s.Webhook(ctx, endpointID)
	if err != nil {
		return nil, err
	}
	ds, err := s.Store.Deliveries(ctx, autho.DeliveryFilter{EndpointID: e.ID, Limit: limit})
	if err != nil {
		return nil, storeErr(err, "list deliveries", nil)
	}
	return ds, nil
}

// Delivery returns one delivery with its attempts, in order.
func (s *Service) Delivery(ctx context.Context, id string) (*autho.Delivery, []*autho.DeliveryAttempt, error) {
	id, err := checkID("delivery", "dlv", id)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.Store.Delivery(ctx, id)
	if err != nil {
		return nil, nil, storeErr(err, "read delivery", notFound("delivery", "delivery %s not found", id))
	}
	as, err := s.Attempts(ctx, d)
	return d, as, err
}

// Attempts lists a delivery's attempts, in order.
func (s *Service) Attempts(ctx context.Context, d *autho.Delivery) ([]*autho.DeliveryAttempt, error) {
	as, err := s.Store.DeliveryAttempts(ctx, d.ID)
	if err != nil {
		return nil, storeErr(err, "read attempts", nil)
	}
	return as, nil
}

// RetryDelivery sends a failed delivery again, at once; one that is not
// failed (pending, or delivered) is refused, as a conflict.
func (s *Service) RetryDelivery(ctx context.Context, by autho.Actor, id string) (*autho.Delivery, error) {
	id, err := checkID("delivery", "dlv", id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	a, err := audit(by, now, autho.AuditDeliveryRetry, "", id, "")
	if err != nil {
		return nil, err
	}
	d, err := s.Store.RetryDelivery(ctx, id, now, a)
	if errors.Is(err, autho.ErrConflict) {
		return nil, conflict("delivery", "delivery %s has not failed: only a failed delivery is sent again", id)
	}
	if err != nil {
		return nil, storeErr(err, "retry delivery", notFound("delivery", "delivery %s not found", id))
	}
	return d, nil
}
