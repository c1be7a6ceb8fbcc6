package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/autho/autho"
)

// translate turns a driver error into the Store's vocabulary. It decides by
// type and SQLSTATE code, never by message text, which changes with server
// version and locale. ctx is the caller's own context, to tell a caller who
// gave up from a database that did not answer.
func translate(ctx context.Context, op string, err error) error {
	var fe *fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, autho.ErrNotFound)
	}
	if ctx.Err() == context.Canceled && errors.Is(err, context.Canceled) {
		// The caller went away; the database may be fine.
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		// Whatever stopped the connection (refused, timed out, a rejected
		// password, a missing database), this node cannot use the
		// database. pgx's text names user, database and host, never the
		// password.
		return fmt.Errorf("postgres: %s: %w: %w", op, autho.ErrUnavailable, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			// The constraint name says which key clashed; the Detail field,
			// which would show the value (a hash, an email), stays out.
			return fmt.Errorf("postgres: %s: %w (%s)", op, autho.ErrConflict, pe.ConstraintName)
		case pe.Code == "23503": // foreign_key_violation
			return fmt.Errorf("postgres: %s: %w (%s)", op, autho.ErrNotFound, pe.ConstraintName)
		case serverUnavailable(pe.Code):
			return fmt.Errorf("postgres: %s: %w (SQLSTATE %s)", op, autho.ErrUnavailable, pe.Code)
		}
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	if ctx.Err() == context.Canceled {
		return fmt.Errorf("postgres: %s: %w", op, ctx.Err())
	}
	if unreachable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, autho.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// serverUnavailable reports whether a server's error code means it cannot
// serve now, as opposed to refusing this statement.
func serverUnavailable(code string) bool {
	switch code {
	case "57P01", // admin_shutdown
		"57P02", // crash_shutdown
		"57P03", // cannot_connect_now (starting up, recovering)
		"53300": // too_many_connections
		return true
	}
	return len(code) == 5 && code[:2] == "08" // connection_exception class
}

// unreachable reports whether err means that the database could not be
// reached or stopped answering: an established connection that fails shows
// up as a network error or an EOF, a bound reached while waiting as a
// deadline, a pool closed by Close as ErrClosedPool.
func unreachable(err error) bool {
	var ne net.Error
	return pgconn.SafeToRetry(err) ||
		pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, puddle.ErrClosedPool)
}
