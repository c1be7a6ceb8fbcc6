package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/database"
	"github.com/autho/autho/internal/signer"
	"github.com/autho/autho/internal/view"
)

func (a *app) webhookCmd() *cobra.Command {
	var url string
	var events []string
	create := &cobra.Command{
		Use:   "create --url URL [--event TYPE]...",
		Short: "Add an endpoint that receives signed events (Standard Webhooks); its whsec_ secret is shown once",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "url"); err != nil {
				return err
			}
			types := make([]autho.EventType, len(events))
			for i, e := range events {
				types[i] = autho.EventType(e)
			}
			return a.withWebhookSealer(cmd.Context(), func(o *op, s *admin.Service) error {
				e, plain, err := s.CreateWebhook(cmd.Context(), autho.OperatorCLI, url, types)
				if err != nil {
					return err
				}
				if o.json {
					return o.printJSON(view.WebhookOf(e, plain))
				}
				o.printf("%s\n", view.WebhookOf(e, "").Line(o.when))
				o.printf("Signing secret (shown once; autho keeps it sealed with the master key to sign, and shows it nowhere again):\n%s\n", plain)
				return nil
			})
		},
	}
	create.Flags().StringVar(&url, "url", "", "where events are POSTed: http(s), a public address unless AUTHO_WEBHOOK_ALLOW_PRIVATE (required)")
	create.Flags().StringArrayVar(&events, "event", nil, "an event type the endpoint takes, such as api_token.revoked (repeatable; none: every type)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the webhook endpoints",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.do(cmd, database.Read, func(o *op, s *admin.Service) error {
				es, err := s.Webhooks(cmd.Context())
				if err != nil {
					return err
				}
				return printList(o, "webhooks", es, func(e *autho.WebhookEndpoint) view.Webhook { return view.WebhookOf(e, "") },
					func(e *autho.WebhookEndpoint) { o.printf("%s\n", view.WebhookOf(e, "").Line(o.when)) }, "No webhook endpoints.")
			})
		},
	}
	disable := &cobra.Command{
		Use:   "disable ID",
		Short: "Stop deliveries to an endpoint (its pending deliveries fail)",
		Args:  wantArgs("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.do(cmd, database.Change, func(o *op, s *admin.Service) error {
				e, err := s.DisableWebhook(cmd.Context(), autho.OperatorCLI, argv[0])
				if err != nil {
					return err
				}
				v := view.WebhookOf(e, "")
				return o.show(v, func() { o.printf("%s\n", v.Line(o.when)) })
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Remove an endpoint with its deliveries",
		Args:  wantArgs("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.do(cmd, database.Change, func(o *op, s *admin.Service) error {
				if err := s.DeleteWebhook(cmd.Context(), autho.OperatorCLI, argv[0]); err != nil {
					return err
				}
				return o.show(map[string]any{"id": argv[0], "deleted": true}, func() { o.printf("Deleted %s.\n", argv[0]) })
			})
		},
	}
	deliveries := &cobra.Command{
		Use:   "deliveries ID",
		Short: "List an endpoint's deliveries, newest first, with their attempts",
		Args:  wantArgs("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.do(cmd, database.Read, func(o *op, s *admin.Service) error {
				ds, err := s.Deliveries(cmd.Context(), argv[0], 0)
				if err != nil {
					return err
				}
				vs := make([]view.Delivery, 0, len(ds))
				for _, d := range ds {
					as, err := s.Attempts(cmd.Context(), d)
					if err != nil {
						return err
					}
					vs = append(vs, view.DeliveryOf(d, as))
				}
				return printList(o, "deliveries", vs, func(v view.Delivery) view.Delivery { return v }, func(v view.Delivery) {
					o.printf("%s\n", v.Line(o.when))
					for _, at := range v.AttemptList {
						o.printf("    attempt %d  %s  status %d  %s\n", at.N, o.when(at.At), at.Status, at.Error)
					}
				}, "No deliveries.")
			})
		},
	}
	retry := &cobra.Command{
		Use:   "retry DELIVERY_ID",
		Short: "Send a failed delivery again, at once",
		Args:  wantArgs("DELIVERY_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.do(cmd, database.Change, func(o *op, s *admin.Service) error {
				d, err := s.RetryDelivery(cmd.Context(), autho.OperatorCLI, argv[0])
				if err != nil {
					return err
				}
				v := view.DeliveryOf(d, nil)
				return o.show(v, func() { o.printf("%s\n", v.Line(o.when)) })
			})
		},
	}
	return group("webhook", "Manage the endpoints that receive lifecycle events, and their deliveries", create, list, disable, del, deliveries, retry)
}

// withWebhookSealer runs fn with an admin.Service that can seal a new
// endpoint's secret with the master key, and knows whether private
// addresses are allowed.
func (a *app) withWebhookSealer(ctx context.Context, fn func(*op, *admin.Service) error) error {
	o, err := a.newOp()
	if err != nil {
		return err
	}
	set, err := a.settings("AUTHO_WEBHOOK_ALLOW_PRIVATE")
	if err != nil {
		return err
	}
	return a.withSealer(ctx, "", database.Change, signer.ReadKeyFile, func(st autho.Store, sealer *signer.Sealer, _ signer.Options, _ string) error {
		return fn(o, &admin.Service{Store: st, Now: time.Now, Sealer: sealer, WebhookAllowPrivate: set.WebhookAllowPrivate})
	})
}
