//go:build pprofdebug

package pprofdebug

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

// Built only with -tags pprofdebug: serves net/http/pprof on
// AUTHO_PPROF_ADDR (default 127.0.0.1:6060) for profiling under load.
func init() {
	addr := os.Getenv("AUTHO_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go http.ListenAndServe(addr, nil)
}
