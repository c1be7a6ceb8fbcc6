package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

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
		return a.withKeyring(cmd.Context(), *listAlg, func(k *signer.Keyring) error {
			infos := k.Keys()
			if a.json {
				if infos == nil {
					infos = []signer.KeyInfo{}
				}
				return printJSONTo(a, map[string]any{"keys": infos})
			}
			for _, ki := range infos {
				fmt.Fprintf(a.stdout, "%s  %-6s  %-9s  created %s", ki.ID, ki.Algorithm, ki.State, ki.CreatedAt.Format(time.RFC3339))
				if !ki.VerifyUntil.IsZero() {
					fmt.Fprintf(a.stdout, "  published until %s", ki.VerifyUntil.Format(time.RFC3339))
				}
				fmt.Fprintln(a.stdout)
			}
			return nil
		})
	}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Make a new signing key; older keys stay published until the tokens they signed expire",
		Args:  cobra.NoArgs,
	}
	rotAlg := alg(rotate)
	rotate.RunE = func(cmd *cobra.Command, _ []string) error {
		return a.withKeyring(cmd.Context(), *rotAlg, func(k *signer.Keyring) error {
			key, err := k.Rotate(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				return printJSONTo(a, map[string]any{"id": key.ID, "algorithm": key.Algorithm, "keys": k.Keys()})
			}
			fmt.Fprintf(a.stdout, "new signing key %s (%s); running servers sign with it within %s\n", key.ID, key.Algorithm, 2*signer.DefaultRefreshInterval)
			return nil
		})
	}
	export := &cobra.Command{
		Use:   "export-hs256 --out FILE",
		Short: "Write the current HS256 secret to FILE (mode 0600), for services that verify HS256 tokens",
		Args:  cobra.NoArgs,
	}
	out := export.Flags().String("out", "", "file to write the secret to (required)")
	export.RunE = func(cmd *cobra.Command, _ []string) error {
		if *out == "" {
			return usageError{fmt.Errorf("--out is required")}
		}
		return a.withKeyring(cmd.Context(), "HS256", func(k *signer.Keyring) error {
			sec, ok := k.HS256Secret("")
			if !ok {
				return fmt.Errorf("no current HS256 key: the server is not configured with AUTHO_JWT_ALG=HS256")
			}
			cur, _ := k.Current()
			f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			if _, err := f.Write(sec); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			if a.json {
				return printJSONTo(a, map[string]any{"id": cur.ID, "file": *out})
			}
			fmt.Fprintf(a.stdout, "wrote the secret of %s to %s\n", cur.ID, *out)
			return nil
		})
	}
	return group("keys", "Manage JWT signing keys", list, rotate, export)
}

// withKeyring opens the store and a keyring of the given algorithm on it.
func (a *app) withKeyring(ctx context.Context, alg string, fn func(*signer.Keyring) error) error {
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
	ttl := set.TokenTTL
	mk, err := a.masterKey(a.db)
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	key, _, err := mk.Open(ctx, st, false)
	if err != nil {
		return err
	}
	sealer, err := signer.NewSealer(key)
	if err != nil {
		return err
	}
	k, err := signer.NewKeyring(st, sealer, signer.Options{Algorithm: alg, TokenTTL: ttl})
	if err != nil {
		return err
	}
	if err := k.Refresh(ctx); err != nil {
		return err
	}
	return fn(k)
}

// printJSONTo prints v as the command's one JSON object.
func printJSONTo(a *app, v any) error { return (&op{app: a}).printJSON(v) }
