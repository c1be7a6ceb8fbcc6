package main

import (
	"context"
	"fmt"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

const demoEmail = "demo@example.com"

// demo fills an empty database with one partner account, an admin user and
// an API token, and prints everything a newcomer needs to try the login.
// The secrets are printed only after they are committed, and only this
// once: on a database that already holds accounts it changes nothing.
func (a *app) demo(ctx context.Context, d *daemon) error {
	svc := &admin.Service{Store: d.store}
	accts, err := svc.Accounts(ctx)
	if err != nil {
		return err
	}
	if len(accts) > 0 {
		fmt.Fprintf(a.stdout, "\nautho is serving on %s\n--demo: the database %s already holds accounts, so no demo data was made "+
			"(secrets are shown once, when created). For fresh demo credentials use a new database, e.g. --db demo-%d.db\n\n",
			d.URL(), d.cfg.Database, time.Now().Unix())
		return nil
	}
	acc, partner, err := svc.CreateAccount(ctx, autho.OperatorCLI, "Demo Partner", time.Now().AddDate(1, 0, 0))
	if err != nil {
		return err
	}
	user, password, err := svc.CreateUser(ctx, autho.OperatorCLI, acc.ID, demoEmail, autho.RoleAdmin, "")
	if err != nil {
		return err
	}
	tok, api, err := svc.CreateToken(ctx, autho.OperatorCLI, admin.NewToken{
		User: user.ID, Name: "demo", ExpiresAt: time.Now().Add(90 * 24 * time.Hour),
	})
	if err != nil {
		return err
	}
	url := d.URL()
	if d.cfg.PublicURL != "" {
		url = d.cfg.PublicURL
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

`, url, user.Email, password, acc.Name, acc.ID, partner, api, tok.ID, tok.ExpiresAt.Format(time.DateOnly),
		d.URL(), api, partner, d.URL())
	return nil
}
