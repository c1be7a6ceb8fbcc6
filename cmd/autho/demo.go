package main

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/autho/autho/internal/daemon"
	"github.com/autho/autho/internal/seed"
)

// demo fills an empty database with demo data (seed.Demo) and prints
// everything a newcomer needs to try the login, once it is committed.
func (a *app) demo(ctx context.Context, d *daemon.Daemon, cfg *daemon.Config) error {
	demo, err := seed.Demo(ctx, d.Store)
	if err != nil {
		return err
	}
	if demo == nil {
		fmt.Fprintf(a.stdout, "\nautho is serving on %s\n--demo: the database %s already holds accounts, so no demo data was made "+
			"(secrets are shown once, when created). For fresh demo credentials use a new database, e.g. --db demo-%d.db\n\n",
			d.URL(), cfg.Database, time.Now().Unix())
		return nil
	}
	fmt.Fprintf(a.stdout, `
autho demo is ready (these secrets are shown once; the database keeps only their hashes)

  portal         %s/portal/
  login          %s
  password       %s
  account        %s (%s)
  partner_token  %s
  api_token      %s  (%s, expires %s)

Trade the two tokens for a JWT:

  curl -s -X POST %s/v1/autho/apitoken/login/ -H 'Content-Type: application/json' -d '{"api_token":"%s","partner_token":"%s"}'

Then call an API with it:

  curl -s %s/v1/autho/me/ -H "Authorization: Bearer <token from the answer above>"

`, cmp.Or(cfg.PublicURL, d.URL()), demo.User.Email, demo.Password, demo.Account.Name, demo.Account.ID, demo.PartnerToken, demo.APIToken, demo.Token.ID,
		demo.Token.ExpiresAt.Format(time.DateOnly), d.URL(), demo.APIToken, demo.PartnerToken, d.URL())
	return nil
}
