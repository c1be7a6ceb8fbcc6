package admin_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/secret"
)

func operatorKeyEvents(t *testing.T, f *fixture) []*autho.AuditEvent {
	t.Helper()
	es, err := f.store.AuditEvents(t.Context(), autho.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestService_CreateOperatorKey(t *testing.T) {
	f := newFixture(t)
	k, plain, err := f.svc.CreateOperatorKey(t.Context(), autho.OperatorCLI, "  billing  ", true)
	if err != nil {
		t.Fatal(err)
	}
	if secret.Check(secret.OperatorKey, plain) != nil || !strings.HasPrefix(plain, "autho_adm_") {
		t.Fatalf("plaintext %q is not an autho_adm_ secret", plain)
	}
	if k.Name != "billing" || !k.ReadOnly || string(k.Hash) != string(secret.Hash(plain)) || k.Hint != secret.Hint(plain) || !strings.HasPrefix(k.ID, "opk_") {
		t.Fatalf("key %+v", k)
	}
	es := operatorKeyEvents(t, f)
	if len(es) != 1 || es[0].Action != autho.AuditOperatorKeyCreate || es[0].ActorID != "operator:cli" || es[0].TargetID != k.ID || es[0].AccountID != "" {
		t.Fatalf("audit %+v, want one operator_key.create by operator:cli of no account", es)
	}

	for _, tc := range []struct {
		name, key string
		by        autho.Actor
		msg       string
		kind      error
	}{
		{"empty name", "", autho.OperatorCLI, "name", nil},
		{"the CLI's name", "CLI", autho.OperatorCLI, "command line", nil},
		{"a name in use", "billing", autho.OperatorCLI, "exists already", autho.ErrConflict},
		{"a portal user", "support", autho.Actor{UserID: "usr_x", Email: "a@example.com"}, "only the operator", admin.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.svc.CreateOperatorKey(t.Context(), tc.by, tc.key, false)
			wantInputError(t, err, tc.msg, tc.kind)
			if ks, _ := f.svc.OperatorKeys(t.Context()); len(ks) != 1 {
				t.Fatalf("%d keys after a refused create", len(ks))
			}
			if es := operatorKeyEvents(t, f); len(es) != 1 {
				t.Fatalf("%d audit events after a refused create", len(es))
			}
		})
	}
}

func TestService_OperatorKeyOfAndRevoke(t *testing.T) {
	f := newFixture(t)
	k, plain, err := f.svc.CreateOperatorKey(t.Context(), autho.OperatorCLI, "crm", false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.OperatorKeyOf(t.Context(), plain)
	if err != nil || got.ID != k.ID {
		t.Fatalf("OperatorKeyOf = %v, %v", got, err)
	}
	for name, bearer := range map[string]string{
		"empty":        "",
		"bad checksum": plain[:len(plain)-1] + otherChar(plain[len(plain)-1]),
		"an API token": secret.New(secret.APIToken),
		"unknown":      secret.New(secret.OperatorKey),
	} {
		if _, err := f.svc.OperatorKeyOf(t.Context(), bearer); !errors.Is(err, admin.ErrUnauthorized) {
			t.Errorf("%s: OperatorKeyOf = %v, want ErrUnauthorized", name, err)
		}
	}

	f.now = f.now.Add(time.Hour)
	r, err := f.svc.RevokeOperatorKey(t.Context(), autho.OperatorCLI, k.ID)
	if err != nil || !r.RevokedAt.Equal(f.now) {
		t.Fatalf("RevokeOperatorKey = %+v, %v", r, err)
	}
	if _, err := f.svc.OperatorKeyOf(t.Context(), plain); !errors.Is(err, admin.ErrUnauthorized) {
		t.Fatalf("a revoked key: OperatorKeyOf = %v, want ErrUnauthorized", err)
	}
	f.now = f.now.Add(time.Hour)
	again, err := f.svc.RevokeOperatorKey(t.Context(), autho.OperatorCLI, k.ID)
	if err != nil || !again.RevokedAt.Equal(r.RevokedAt) {
		t.Fatalf("second revoke = %+v, %v; want the first revocation kept", again, err)
	}
	es := operatorKeyEvents(t, f)
	if len(es) != 2 || es[0].Action != autho.AuditOperatorKeyRevoke || es[0].TargetName != "crm" {
		t.Fatalf("audit %+v, want create and one revoke", es)
	}
	_, err = f.svc.RevokeOperatorKey(t.Context(), autho.OperatorCLI, "opk_unknown")
	wantInputError(t, err, "not found", autho.ErrNotFound)
	_, err = f.svc.RevokeOperatorKey(t.Context(), autho.Actor{UserID: "usr_x"}, k.ID)
	wantInputError(t, err, "only the operator", admin.ErrForbidden)
}

func TestRedact_OperatorKey(t *testing.T) {
	if got := admin.Redact("id " + secret.New(secret.OperatorKey)); strings.Contains(got, "autho_adm_") {
		t.Fatalf("Redact kept an operator key: %q", got)
	}
}

// otherChar is a base62 character other than c, so that a changed last
// character is a change whatever the key's was.
func otherChar(c byte) string {
	if c == 'x' {
		return "y"
	}
	return "x"
}
