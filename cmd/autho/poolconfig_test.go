package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/postgres"
)

// TestServeConfig_DBPool parses the pool settings: what is accepted, what
// is refused, and that a refusal names the setting.
func TestServeConfig_DBPool(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		maxConns int32
		acquire  time.Duration
		err      string
	}{
		{"defaults", nil, 0, 2 * time.Second, ""},
		{"given", map[string]string{"AUTHO_DB_MAX_CONNS": "25", "AUTHO_DB_ACQUIRE_TIMEOUT": "750ms"}, 25, 750 * time.Millisecond, ""},
		{"one connection", map[string]string{"AUTHO_DB_MAX_CONNS": "1"}, 1, 2 * time.Second, ""},
		{"zero connections", map[string]string{"AUTHO_DB_MAX_CONNS": "0"}, 0, 0, "AUTHO_DB_MAX_CONNS"},
		{"negative connections", map[string]string{"AUTHO_DB_MAX_CONNS": "-3"}, 0, 0, "AUTHO_DB_MAX_CONNS"},
		{"too many connections", map[string]string{"AUTHO_DB_MAX_CONNS": "4294967296"}, 0, 0, "AUTHO_DB_MAX_CONNS"},
		{"connections not a number", map[string]string{"AUTHO_DB_MAX_CONNS": "ten"}, 0, 0, "AUTHO_DB_MAX_CONNS"},
		{"acquire too short", map[string]string{"AUTHO_DB_ACQUIRE_TIMEOUT": "5ms"}, 0, 0, "AUTHO_DB_ACQUIRE_TIMEOUT"},
		{"acquire not a duration", map[string]string{"AUTHO_DB_ACQUIRE_TIMEOUT": "2"}, 0, 0, "AUTHO_DB_ACQUIRE_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AUTHO_DATABASE": "postgres://autho@127.0.0.1/autho"}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := config.Load(nil, config.Source{Getenv: func(k string) string { return env[k] }})
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err+": ") {
					t.Fatalf("error %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.DBMaxConns != tt.maxConns || cfg.DBAcquireTimeout != tt.acquire {
				t.Fatalf("max conns %d, acquire timeout %v; want %d, %v", cfg.DBMaxConns, cfg.DBAcquireTimeout, tt.maxConns, tt.acquire)
			}
		})
	}
}

// TestServe_DBPoolExhausted: the pool settings reach serve's pool. With one
// connection, held by a call stuck behind a row lock, a login waits
// AUTHO_DB_ACQUIRE_TIMEOUT for it and answers 503 `14`, and serves again
// once the connection is free.
func TestServe_DBPoolExhausted(t *testing.T) {
	const acquire = 300 * time.Millisecond
	ts := startServerOn(t, backendPostgres, map[string]string{
		"AUTHO_DB_MAX_CONNS":       "1",
		"AUTHO_DB_ACQUIRE_TIMEOUT": acquire.String(),
	})
	st, ok := ts.d.Store.(*postgres.Store)
	if !ok {
		t.Fatalf("serve's store is %T, want *postgres.Store", ts.d.Store)
	}
	if got := st.Stat().MaxConns(); got != 1 {
		t.Fatalf("pool of %d connections, want AUTHO_DB_MAX_CONNS=1", got)
	}
	p := ts.newPartner()
	wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))

	// Another session locks the account; an update through serve's store
	// then holds the pool's only connection while it waits for the lock.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	locker, err := pgx.Connect(ctx, ts.db)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(context.Background())
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, p.AccountID); err != nil {
		t.Fatal(err)
	}
	updated := make(chan error, 1)
	go func() {
		_, err := ts.d.Store.UpdateAccount(ctx, p.AccountID, func(*autho.Account) error { return nil })
		updated <- err
	}()
	// Bounded wait until the update is blocked on the lock, holding the
	// connection. Asked on a connection of its own, since a transaction
	// sees one snapshot of pg_stat_activity.
	watcher, err := pgx.Connect(ctx, ts.db)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(context.Background())
	for i := 0; ; i++ {
		var blocked int
		err := watcher.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`,
			locker.PgConn().PID()).Scan(&blocked)
		if err != nil {
			t.Fatal(err)
		}
		if blocked > 0 {
			break
		}
		if i == 200 {
			t.Fatal("the update never reached the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}

	began := time.Now()
	r := ts.login(p.APIToken, p.PartnerToken)
	took := time.Since(began)
	wantError(t, r, 503, "14")
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if took < acquire-50*time.Millisecond || took > acquire+time.Second {
		t.Errorf("503 after %v, want after about AUTHO_DB_ACQUIRE_TIMEOUT=%v", took, acquire)
	}
	t.Logf("login with the pool exhausted: 503 after %v", took.Round(time.Millisecond))

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-updated; err != nil {
		t.Fatalf("the update behind the lock: %v", err)
	}
	wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
}
