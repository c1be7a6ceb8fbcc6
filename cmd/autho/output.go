package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/view"
)

// printJSON writes v as the one JSON object of the command's stdout.
func (o *op) printJSON(v any) error { return writeJSON(o.stdout, v) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// show prints one answer: v with --json, otherwise what lines prints.
func (o *op) show(v any, lines func()) error {
	if o.json {
		return o.printJSON(v)
	}
	lines()
	return nil
}

// printList prints a listing: with --json one object holding the items'
// views under key, otherwise a line each, or none when there are none.
func printList[T, V any](o *op, key string, items []T, viewOf func(T) V, line func(T), none string) error {
	if o.json {
		vs := make([]V, 0, len(items))
		for _, it := range items {
			vs = append(vs, viewOf(it))
		}
		return o.printJSON(map[string][]V{key: vs})
	}
	if len(items) == 0 {
		o.printf("%s\n", none)
	}
	for _, it := range items {
		line(it)
	}
	return nil
}

// printf writes human output.
func (o *op) printf(format string, args ...any) {
	fmt.Fprintf(o.stdout, format, args...)
}

// when shows a time to a person, in AUTHO_TIMEZONE.
func (o *op) when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(o.loc).Format("2006-01-02 15:04:05 MST")
}

func (o *op) printAccount(a *autho.Account) {
	o.printf("%s\n", view.AccountOf(a, o.now, "").Line(o.when))
}
func (o *op) printUser(u *autho.User)      { o.printf("%s\n", view.UserOf(u, "").Line()) }
func (o *op) printToken(t *autho.APIToken) { o.printf("%s\n", view.TokenOf(t, o.now, "").Line(o.when)) }
func (o *op) printOperatorKey(k *autho.OperatorKey) {
	o.printf("%s\n", view.OperatorKeyOf(k, "").Line(o.when))
}

// warn tells the operator, on stderr in one line, of a likely mistake in a
// request that was valid and done all the same.
func (o *op) warn(format string, args ...any) {
	fmt.Fprintf(o.stderr, "autho: warning: %s\n", oneLine(fmt.Sprintf(format, args...)))
}

// printSecret says plainly that a secret will not be shown again: the
// database keeps only its hash.
func (o *op) printSecret(what, value string) {
	o.printf("%s (shown once; autho keeps only its hash, so copy it now):\n%s\n", what, value)
}
