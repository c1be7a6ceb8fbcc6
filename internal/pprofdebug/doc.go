// Package pprofdebug serves net/http/pprof on AUTHO_PPROF_ADDR (default
// 127.0.0.1:6060) for profiling under load, in a binary built with -tags
// pprofdebug; in any other build it is empty, so importing it costs nothing.
package pprofdebug
