// Package reqlog holds what the request logs of autho's listeners (the
// server, the gateway) need of an answer once it is written.
package reqlog

import "net/http"

// Recorder is an http.ResponseWriter that remembers the status and counts
// the body bytes of the answer, for the request's log line and metrics.
// Unwrap lets http.ResponseController reach the underlying writer's Flush
// and Hijack (the gateway's streams and WebSockets).
type Recorder struct {
	http.ResponseWriter
	Status int // the status written; 0 until the answer starts
	Bytes  int // body bytes written
}

func (w *Recorder) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *Recorder) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += n
	return n, err
}

func (w *Recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
