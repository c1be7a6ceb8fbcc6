package portal

import (
	"context"
	"errors"
	"net/http"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/password"
)

// pageError is a failure a person should read about: an HTTP status, a
// heading and a sentence. Its text is fixed here and never echoes input.
type pageError struct {
	status  int
	title   string
	message string
}

func (e *pageError) Error() string { return e.title }

var (
	errNotFound = &pageError{http.StatusNotFound, "Page not found",
		"There is nothing here, or it is not yours to see. Check the address, or go back to your tokens."}
	errTokenNotFound = &pageError{http.StatusNotFound, "Token not found",
		"There is no such token, or it is not yours to see. It may have been typed wrong; go back to your tokens to pick one."}
	errUserNotFound = &pageError{http.StatusNotFound, "User not found",
		"There is no such user in your account."}
	errAdminsOnly = &pageError{http.StatusForbidden, "Admins only",
		"Only an admin of your account can open this page. Ask one of them if you need something changed."}
	errMethod = &pageError{http.StatusMethodNotAllowed, "Not allowed",
		"This page cannot be used that way. Go back and use the buttons on the page."}
	errBadForm = &pageError{http.StatusBadRequest, "The form could not be read",
		"What was sent was not a form this page understands. Go back, reload the page and try again."}
	errFormTooLarge = &pageError{http.StatusRequestEntityTooLarge, "Too much text",
		"The form held far more text than any field allows. Nothing was changed."}
	errCrossOrigin = &pageError{http.StatusForbidden, "Form refused",
		"This form was sent from another site, so it was refused and nothing was changed. If you meant to do this, open the portal yourself and do it there."}
	errUnavailable = &pageError{http.StatusServiceUnavailable, "Try again in a moment",
		"The portal cannot reach its database just now. Nothing was changed; try again in a moment."}
	errBusy = &pageError{http.StatusServiceUnavailable, "Try again in a moment",
		"The portal is checking more passwords than it can at once just now. Nothing was changed; try again in a moment."}
	errInternal = &pageError{http.StatusInternalServerError, "Something went wrong",
		"Something went wrong on our side and nothing was changed. Try again; if it keeps happening, tell the platform's support."}
)

// fail writes err as an error page; this is the one place a failure becomes
// a page. Only unexpected errors are logged, and their text never reaches
// the browser.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	var pe *pageError
	switch {
	case errors.As(err, &pe):
	case errors.Is(err, autho.ErrUnavailable):
		p.log.Warn("portal: database unavailable", "route", r.Pattern, "err", err)
		w.Header().Set("Retry-After", "5")
		pe = errUnavailable
	case errors.Is(err, password.ErrBusy):
		// A flood of sign-ins, or of anything else that hashes a
		// password: answered at once, at no cost.
		w.Header().Set("Retry-After", "1")
		pe = errBusy
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client hung up; nobody reads the page, and it is no fault
		// of ours.
		p.log.Debug("portal: client went away", "route", r.Pattern)
		pe = errUnavailable
	case isAdminError(err, autho.ErrNotFound):
		pe = errNotFound
	case isAdminError(err, admin.ErrForbidden):
		pe = &pageError{http.StatusForbidden, "Not allowed", sentence(err.Error())}
	default:
		p.log.Error("portal: internal error", "route", r.Pattern, "err", err)
		pe = errInternal
	}
	if v == nil {
		v = &visit{}
	}
	p.render(w, r, pe.status, &errorPage{layout: p.layout(v, pe.title, ""), Message: pe.message})
}

// isAdminError reports whether err is a mistake admin reports (an
// *admin.Error) of the given kind.
func isAdminError(err, kind error) bool {
	var ae *admin.Error
	return errors.As(err, &ae) && errors.Is(err, kind)
}

// crossOriginRefused answers a form posted from another site.
func (p *Portal) crossOriginRefused(w http.ResponseWriter, r *http.Request) {
	p.fail(w, r, nil, errCrossOrigin)
}
