// Package dispatch puts a surface's routes on a ServeMux with the method
// matched here rather than in ServeMux patterns, so that a wrong method
// gets the surface's own answer (the JSON envelope, the portal's page) with
// Allow, not ServeMux's plain text.
package dispatch

import (
	"net/http"
	"slices"
	"strings"
)

// Route is one method of one ServeMux pattern (a pattern without method).
type Route struct {
	Method  string
	Pattern string
	Handler http.Handler
}

// Register puts routes on mux, one handler per pattern, in the order the
// patterns first appear. A GET route answers HEAD too. Any other method is
// answered by notAllowed(allow), allow being the Allow header's value for
// the pattern (its methods, sorted), for that handler to set.
func Register(mux *http.ServeMux, routes []Route, notAllowed func(allow string) http.Handler) {
	byPattern := map[string][]Route{}
	var order []string
	for _, rt := range routes {
		if _, ok := byPattern[rt.Pattern]; !ok {
			order = append(order, rt.Pattern)
		}
		byPattern[rt.Pattern] = append(byPattern[rt.Pattern], rt)
	}
	for _, p := range order {
		mux.Handle(p, methods(byPattern[p], notAllowed))
	}
}

// methods picks the route of one pattern for the request's method.
func methods(rts []Route, notAllowed func(allow string) http.Handler) http.Handler {
	var allow []string
	handlers := make(map[string]http.Handler, len(rts)+1)
	for _, rt := range rts {
		handlers[rt.Method] = rt.Handler
		allow = append(allow, rt.Method)
		if rt.Method == http.MethodGet {
			handlers[http.MethodHead] = rt.Handler
			allow = append(allow, http.MethodHead)
		}
	}
	slices.Sort(allow)
	other := notAllowed(strings.Join(allow, ", "))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := handlers[r.Method]; ok {
			h.ServeHTTP(w, r)
			return
		}
		other.ServeHTTP(w, r)
	})
}
