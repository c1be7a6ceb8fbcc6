package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/database"
	"github.com/autho/autho/internal/migrations"
	"github.com/autho/autho/internal/postgres"
	"github.com/autho/autho/internal/signer"
)

// openStore opens the database named by --db for use (see database.Use).
// The caller closes it.
func (a *app) openStore(ctx context.Context, use database.Use) (autho.Store, error) {
	return database.Open(ctx, a.db, use, postgres.Options{}, a.migrationProgress())
}

// migrationProgress says on stderr when a migration is slow.
func (a *app) migrationProgress() migrations.Progress {
	return migrations.ReportSlow(time.Second, func(m migrations.Migration, took time.Duration) {
		if took < 0 {
			fmt.Fprintf(a.stderr, "autho: applying migration %s to the database; on a large one this may take a minute\n", m)
			return
		}
		fmt.Fprintf(a.stderr, "autho: migration %s applied in %.1f s\n", m, took.Seconds())
	})
}

// masterKey finds the key that seals the database db's signing keys.
func (a *app) masterKey(db string) (*signer.MasterKey, error) {
	set, err := a.settings("AUTHO_MASTER_KEY")
	if err != nil {
		return nil, err
	}
	return signer.FindMasterKey(set.MasterKey, database.KeyFile(db))
}

// source is where the settings of every command come from besides flags.
func (a *app) source() config.Source {
	return config.Source{Getenv: a.getenv, ReadFile: os.ReadFile}
}

// settings loads the named settings for a command without flags of its
// own for them (the operator commands).
func (a *app) settings(envs ...string) (*config.Config, error) {
	return config.Load(nil, a.source(), envs...)
}
