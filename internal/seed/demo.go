package seed

import (
	"context"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

// DemoEmail is the demo user's sign-in.
const DemoEmail = "demo@example.com"

// DemoData is what Demo made, secrets included: they exist nowhere else.
type DemoData struct {
	Account      *autho.Account
	PartnerToken string
	User         *autho.User
	Password     string
	Token        *autho.APIToken
	APIToken     string
}

// Demo fills an empty database with one partner account, an admin user and
// an API token, for a newcomer to try the login. On a database that already
// holds accounts it makes nothing and returns nil: secrets are shown once,
// when made, so there is nothing to show again.
func Demo(ctx context.Context, st autho.Store) (*DemoData, error) {
	svc := &admin.Service{Store: st}
	accts, err := svc.Accounts(ctx)
	if err != nil || len(accts) > 0 {
		return nil, err
	}
	var d DemoData
	if d.Account, d.PartnerToken, err = svc.CreateAccount(ctx, autho.OperatorCLI, "Demo Partner", time.Now().AddDate(1, 0, 0)); err != nil {
		return nil, err
	}
	if d.User, d.Password, err = svc.CreateUser(ctx, autho.OperatorCLI, d.Account.ID, DemoEmail, autho.RoleAdmin, ""); err != nil {
		return nil, err
	}
	if d.Token, d.APIToken, err = svc.CreateToken(ctx, autho.OperatorCLI, admin.NewToken{
		User: d.User.ID, Name: "demo", ExpiresAt: time.Now().Add(90 * 24 * time.Hour),
	}); err != nil {
		return nil, err
	}
	return &d, nil
}
