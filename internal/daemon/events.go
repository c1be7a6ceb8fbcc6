package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/mail"
	"github.com/autho/autho/internal/outbox"
	"github.com/autho/autho/internal/secretscan"
	"github.com/autho/autho/internal/webhook"
)

// noticeEvery is how often a node looks for things that reached an expiry
// threshold: the contract says at least once a minute.
const noticeEvery = 30 * time.Second

// events builds this node's delivery worker: webhooks always, mail when
// AUTHO_SMTP_URL is set.
func (d *Daemon) events(cfg *Config, secrets outbox.Opener, portalURL string) (*outbox.Worker, error) {
	w := &outbox.Worker{
		Store:    d.Store,
		Webhooks: webhookSender{&webhook.Sender{AllowPrivate: cfg.WebhookAllowPrivate}},
		Secrets:  secrets,
		Log:      d.log,
		Scale:    cfg.DeliveryTimeScale,
	}
	if cfg.SMTP != nil {
		m, err := mail.New(*cfg.SMTP, cfg.SMTPFrom)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Name("AUTHO_SMTP_FROM"), err)
		}
		w.Mailer = eventMailer{m: m, store: d.Store, loc: cfg.Location, portal: portalURL + "/portal/", contact: cfg.PortalContact,
			invitations: &admin.Service{Store: d.Store, Sealer: d.sealer}}
	}
	return w, nil
}

// noticeLoop makes the expiring and expired events at start and then every
// noticeEvery, until ctx ends.
func (d *Daemon) noticeLoop(ctx context.Context, svc *admin.Service) {
	every := d.noticeEvery
	if every <= 0 {
		every = noticeEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := svc.NoticeExpiries(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("events: cannot look for expiring accounts and tokens", "err", err)
		} else if n > 0 {
			d.log.Info("events: expiry notices made", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// webhookSender is webhook.Sender as the outbox uses it.
type webhookSender struct{ s *webhook.Sender }

func (w webhookSender) Send(ctx context.Context, url, secret, id string, ts time.Time, body []byte) (int, error) {
	r := w.s.Send(ctx, url, secret, id, ts, body)
	return r.Status, r.Err
}

// eventMailer writes an event's mail from its data and sends it.
type eventMailer struct {
	m       *mail.Mailer
	store   autho.Store // for the account's name, when the event names only its id
	loc     *time.Location
	portal  string
	contact string
	// invitations opens an invitation's link for its mail, and forgets
	// it once the mail is sent.
	invitations *admin.Service
}

func (e eventMailer) Mail(ctx context.Context, to autho.Recipient, ev *autho.Event) error {
	var data autho.EventData
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return fmt.Errorf("event %s: its data does not read: %w", ev.ID, err)
	}
	md := mail.Data{To: to.Email, PortalURL: e.portal, Contact: e.contact, LeakedKind: data.Kind, LeakURL: data.URL}
	switch {
	case data.Token != nil:
		md.TokenName, md.TokenHint, md.ExpiresAt = data.Token.Name, data.Token.Hint, data.Token.ExpiresAt
	case data.Account != nil:
		md.ExpiresAt = data.Account.ExpiresAt
		if data.Kind == "partner_token" {
			md.TokenHint = data.Account.PartnerTokenHint // the mail names the leaked partner token
		}
	}
	if data.Account != nil {
		md.AccountName = data.Account.Name
	} else if a, err := e.store.Account(ctx, ev.AccountID); err == nil {
		md.AccountName = a.Name
	} else {
		return fmt.Errorf("event %s: reading its account: %w", ev.ID, err)
	}
	invitation := ""
	if data.Invitation != nil {
		inv, token, err := e.invitations.InvitationLink(ctx, data.Invitation.ID)
		if errors.Is(err, admin.ErrInvitationGone) {
			return fmt.Errorf("%w: the invitation was used or expired before its mail went out", outbox.ErrPermanent)
		} else if err != nil {
			return err
		}
		invitation = inv.ID
		md.InviteURL, md.InvitedBy, md.ExpiresAt = e.portal+"invite/"+token, data.Invitation.InvitedBy, inv.ExpiresAt
	}
	if e.loc != nil {
		md.ExpiresAt = md.ExpiresAt.In(e.loc)
	}
	// Rounded to the nearest day, and at least one: an expiring mail sent
	// hours before the end still says "1 day".
	md.DaysLeft = max(1, int((time.Until(md.ExpiresAt)+12*time.Hour)/(24*time.Hour)))
	msg, err := mail.Compose(string(ev.Type), md)
	if err != nil {
		return fmt.Errorf("%w: %v", outbox.ErrPermanent, err)
	}
	if err := e.m.Send(ctx, msg); mail.IsPermanent(err) {
		return fmt.Errorf("%w: %v", outbox.ErrPermanent, err)
	} else if err != nil {
		return err
	}
	if invitation != "" {
		// Sent: the link need not be made again. Should this fail, the
		// sealed token goes when the link is used or expires.
		_ = e.invitations.InvitationSent(ctx, invitation)
	}
	return nil
}

// secretScanning is the leaked-token endpoint, nil when
// AUTHO_SECRET_SCANNING_KEYS_URL is off.
func (d *Daemon) secretScanning(cfg *Config) http.Handler {
	if cfg.SecretScanningKeys == "off" {
		return nil
	}
	return &secretscan.Handler{Keys: secretscan.NewKeys(cfg.SecretScanningKeys), Reporter: leakReporter{d.operator}, Log: d.log}
}

// leakReporter is admin's leak rules as the secret-scanning endpoint calls
// them.
type leakReporter struct{ svc *admin.Service }

func (l leakReporter) Report(ctx context.Context, token, url string) (bool, error) {
	return l.svc.ReportLeak(ctx, token, url)
}
