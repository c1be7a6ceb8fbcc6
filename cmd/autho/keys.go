package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/database"
	"github.com/autho/autho/internal/signer"
)

func (a *app) keysCmd() *cobra.Command {
	alg := func(c *cobra.Command) *string {
		return c.Flags().String("alg", "", "algorithm of the signing key (default AUTHO_JWT_ALG, else ES256)")
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List signing keys with their state and dates",
		Args:  cobra.NoArgs,
	}
	listAlg := alg(list)
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		return a.withKeyring(cmd.Context(), *listAlg, database.Read, func(k *signer.Keyring) error {
			return printList(&op{app: a}, "keys", k.Keys(), func(ki signer.KeyInfo) signer.KeyInfo { return ki }, func(ki signer.KeyInfo) {
				until := ""
				if !ki.VerifyUntil.IsZero() {
					until = "  published until " + ki.VerifyUntil.Format(time.RFC3339)
				}
				fmt.Fprintf(a.stdout, "%s  %-6s  %-9s  created %s%s\n", ki.ID, ki.Algorithm, ki.State, ki.CreatedAt.Format(time.RFC3339), until)
			}, "No signing keys.")
		})
	}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Make a new signing key; older keys stay published until the tokens they signed expire",
		Args:  cobra.NoArgs,
	}
	rotAlg := alg(rotate)
	rotForce := rotate.Flags().Bool("force", false, "make the key even if the servers sign with another algorithm (to change it: set AUTHO_JWT_ALG on every server first)")
	rotate.RunE = func(cmd *cobra.Command, _ []string) error {
		return a.withKeyring(cmd.Context(), *rotAlg, database.Change, func(k *signer.Keyring) error {
			served, other := k.ServedByOther()
			if other && !*rotForce {
				from := "AUTHO_JWT_ALG here (default ES256)"
				if *rotAlg != "" {
					from = "--alg"
				}
				return fmt.Errorf("the servers sign with %s (key %s), so they would replace at once the %s key that %s asks for: set AUTHO_JWT_ALG=%s as on the servers, or, to change algorithm, set AUTHO_JWT_ALG on every server and give --force",
					served.Algorithm, served.ID, k.Algorithm(), from, served.Algorithm)
			}
			key, err := k.Rotate(cmd.Context(), autho.OperatorCLI)
			if err != nil {
				return err
			}
			if a.json {
				return printJSONTo(a, map[string]any{"id": key.ID, "algorithm": key.Algorithm, "keys": k.Keys()})
			}
			within := 2 * signer.DefaultRefreshInterval
			if other {
				fmt.Fprintf(a.stdout, "new signing key %s (%s); servers with AUTHO_JWT_ALG=%s sign with it within %s, and any still on %s replace it\n", key.ID, key.Algorithm, key.Algorithm, within, served.Algorithm)
				return nil
			}
			fmt.Fprintf(a.stdout, "new signing key %s (%s); running servers sign with it within %s\n", key.ID, key.Algorithm, within)
			return nil
		})
	}
	export := &cobra.Command{
		Use:   "export-hs256 --out FILE [--force]",
		Short: "Write every HS256 secret still in use, by kid, to FILE (mode 0600), for services that verify HS256 tokens",
		Long: `Write every HS256 secret that may still verify a token to FILE (mode 0600),
newest first, as a JSON Web Key Set of "oct" keys: what "autho gateway
--hs256-secret-file" and bearer.NewSecretFile read. Export again, with
--force, after every rotation (keys rotate, or the automatic one): the file
is replaced in one step, and verifiers re-read it without a restart.`,
		Args: cobra.NoArgs,
	}
	out := export.Flags().String("out", "", "file to write the secrets to (required)")
	force := export.Flags().Bool("force", false, "replace FILE if it exists")
	export.RunE = func(cmd *cobra.Command, _ []string) error {
		if *out == "" {
			return usageError{fmt.Errorf("--out is required")}
		}
		return a.withKeyring(cmd.Context(), "HS256", database.Read, func(k *signer.Keyring) error {
			ids, err := k.ExportHS256(*out, *force)
			switch {
			case errors.Is(err, signer.ErrNoHS256Key):
				return fmt.Errorf("no HS256 key: the server is not configured with AUTHO_JWT_ALG=HS256")
			case errors.Is(err, fs.ErrExist):
				return fmt.Errorf("--out: %s exists: give --force to replace it", *out)
			case err != nil:
				return err
			}
			if a.json {
				return printJSONTo(a, map[string]any{"id": ids[0], "ids": ids, "file": *out})
			}
			fmt.Fprintf(a.stdout, "wrote the secrets of %s to %s\n", strings.Join(ids, ", "), *out)
			return nil
		})
	}
	reset := &cobra.Command{
		Use:   "reset --i-have-lost-the-master-key",
		Short: "After the master key is lost: drop the signing keys it sealed and make new ones (every JWT issued before stops verifying)",
		Long: `When the master key (AUTHO_MASTER_KEY, or the key file beside a SQLite
database) that sealed the signing keys is lost, delete every signing key the
master key at hand cannot open, and make a new one (of AUTHO_JWT_ALG, or
--alg). Without AUTHO_MASTER_KEY, a missing key file is written anew.
Accounts, users and API tokens are untouched, so partners log in again; but
every JWT issued before stops verifying. Restart every running server.`,
		Args: cobra.NoArgs,
	}
	resetAlg := alg(reset)
	lost := reset.Flags().Bool("i-have-lost-the-master-key", false, "confirm that the master key is lost and every JWT issued so far may stop verifying")
	reset.RunE = func(cmd *cobra.Command, _ []string) error {
		if !*lost {
			return usageError{errors.New("keys reset deletes the signing keys the master key cannot open, and every JWT issued before stops verifying: give --i-have-lost-the-master-key to go ahead")}
		}
		return a.withSealer(cmd.Context(), *resetAlg, database.Change, signer.LostKeyFile, func(st autho.Store, s *signer.Sealer, opt signer.Options, made string) error {
			dropped, key, err := signer.ResetLostKeys(cmd.Context(), autho.OperatorCLI, st, s, opt)
			if err != nil {
				return err
			}
			if a.json {
				res := map[string]any{"dropped": dropped, "id": key.ID, "algorithm": key.Algorithm}
				if made != "" {
					res["master_key_file"] = made
				}
				return printJSONTo(a, res)
			}
			if made != "" {
				fmt.Fprintf(a.stdout, "wrote a new master key to %s: back it up with the database\n", made)
			}
			fmt.Fprintf(a.stdout, "deleted %d signing key(s) the master key does not open (%s) and made %s (%s): every JWT issued before stops verifying; partners log in again with their API tokens; restart every running server\n",
				len(dropped), strings.Join(dropped, ", "), key.ID, key.Algorithm)
			return nil
		})
	}
	return group("keys", "Manage JWT signing keys", list, rotate, export, reset)
}

// withKeyring opens the store and a keyring of the given algorithm on it.
func (a *app) withKeyring(ctx context.Context, alg string, use database.Use, fn func(*signer.Keyring) error) error {
	return a.withSealer(ctx, alg, use, signer.ReadKeyFile, func(st autho.Store, s *signer.Sealer, opt signer.Options, _ string) error {
		k, err := signer.NewKeyring(st, s, opt)
		if err != nil {
			return err
		}
		if err := k.Refresh(ctx); err != nil {
			return err
		}
		return fn(k)
	})
}

// withSealer opens the store and its master key, and settles the keyring
// options: alg, or AUTHO_JWT_ALG when empty. fn is told the key file made
// now, if any; its errors opening sealed keys are explained as the master
// key's.
func (a *app) withSealer(ctx context.Context, alg string, dbUse database.Use, use signer.KeyFileUse, fn func(st autho.Store, s *signer.Sealer, opt signer.Options, madeKeyFile string) error) error {
	if alg == "" {
		set, err := a.settings("AUTHO_JWT_ALG")
		if err != nil {
			return err
		}
		alg = set.Algorithm
	}
	if err := signer.CheckAlgorithm(alg); err != nil {
		return usageError{fmt.Errorf("--alg: %q is not one of ES256, EdDSA, RS256, HS256", alg)}
	}
	// AUTHO_TOKEN_TTL bounds how long a replaced key must stay
	// published; a bad value is refused rather than guessed, since a
	// guess too short would unpublish a key whose tokens are still valid.
	set, err := a.settings("AUTHO_TOKEN_TTL")
	if err != nil {
		return err
	}
	mk, err := a.masterKey(a.db)
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx, dbUse)
	if err != nil {
		return err
	}
	defer st.Close()
	key, created, err := mk.Open(ctx, st, use)
	if err != nil {
		return err
	}
	var made string
	if created {
		made = mk.File()
	}
	sealer, err := signer.NewSealer(key)
	if err != nil {
		return err
	}
	return mk.Explain(fn(st, sealer, signer.Options{Algorithm: alg, TokenTTL: set.TokenTTL}, made))
}

// printJSONTo prints v as the command's one JSON object.
func printJSONTo(a *app, v any) error { return (&op{app: a}).printJSON(v) }
