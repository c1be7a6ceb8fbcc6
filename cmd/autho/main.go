// Command autho is the autho server and its operator CLI in one binary.
//
// Configuration lives only here: flags and AUTHO_* environment variables are
// read into explicit structs and passed down; no package below keeps globals.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/config"
	_ "github.com/autho/autho/internal/pprofdebug" // empty unless built with -tags pprofdebug
	"github.com/autho/autho/internal/suggest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// app is what every command shares: the global flags and the process's
// standard streams and environment, injected so tests can run commands
// in-process.
type app struct {
	db     string // --db / AUTHO_DATABASE
	json   bool   // --json
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// run executes one command line and returns the process exit code. Every
// failure is one line on stderr, "autho: <message>", and exit code 1 (2 for
// usage mistakes caught by the flag parser).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	out := &countingWriter{w: stdout}
	a := &app{stdin: stdin, stdout: out, stderr: stderr, getenv: getenv}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(out)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		// Redacted here, the one place errors are printed, so that even a
		// flag parser's message never repeats a token pasted by mistake.
		msg := admin.Redact(oneLine(err.Error()))
		fmt.Fprintf(stderr, "autho: %s\n", msg)
		// A script reading --json output gets the failure as its one
		// object too, unless the command had already printed its answer.
		if (a.json || jsonAsked(args)) && out.n == 0 {
			writeJSON(stdout, struct {
				Error string `json:"error"`
			}{msg})
		}
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "autho",
		Short:         "Authenticate an API platform's partners: API token + partner token in, JWT out.",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Flags are parsed before any command runs, so a usage mistake
		// changes nothing.
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{suggest.FlagError(cmd.Flags(), err)} })
	config.Bind(root.PersistentFlags(), "AUTHO_DATABASE")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		c, err := config.Load(cmd.Flags(), a.source(), "AUTHO_DATABASE")
		if err != nil {
			return err
		}
		a.db = c.Database
		return nil
	}
	root.PersistentFlags().BoolVar(&a.json, "json", false, "print one JSON object on stdout and nothing else there")
	// Our own flag rather than cobra's Version field, whose template would
	// ignore --json.
	showVersion := root.Flags().Bool("version", false, "show the version, as the version command does")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if *showVersion {
			return a.printVersion()
		}
		return cmd.Help()
	}
	root.AddCommand(
		// The operator's commands: each opens the database, does one
		// thing through internal/admin, and closes it.
		a.migrateCmd(), a.accountCmd(), a.userCmd(), a.tokenCmd(), a.operatorKeyCmd(), a.webhookCmd(),
		// The server and its keys; load-test data.
		a.serveCmd(), a.keysCmd(), a.gatewayCmd(), a.devCmd(),
		a.versionCmd(),
	)
	return root
}

// usageError marks a mistake in the command line itself.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// countingWriter counts what a command wrote, so that an error is not
// added as a second JSON object after a printed answer.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// jsonAsked reads --json from the command line itself, for a failure of the
// flag parser, which may stop before it reaches --json.
func jsonAsked(args []string) bool {
	asked := false
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if arg == "--json" {
			asked = true
		} else if v, ok := strings.CutPrefix(arg, "--json="); ok {
			asked, _ = strconv.ParseBool(v)
		}
	}
	return asked
}
