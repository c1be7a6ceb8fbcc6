package server

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// envelope is the shape of every JSON answer. Field order is the contract's.
type envelope struct {
	Data   any      `json:"data"`
	Meta   struct{} `json:"meta"`
	Result string   `json:"result"`
	Status string   `json:"status"`
}

type message struct {
	Message string `json:"message"`
}

func writeOK(w http.ResponseWriter, data any) {
	writeEnvelope(w, http.StatusOK, "OK", "00", data)
}

func writeEnvelope(w http.ResponseWriter, status int, st, result string, data any) {
	b, err := json.Marshal(envelope{Data: data, Result: result, Status: st})
	if err != nil {
		// Our own types always marshal; this is a programming error.
		status, b = http.StatusInternalServerError, []byte(`{"data":{"message":"Internal error"},"meta":{},"result":"99","status":"ERROR"}`)
	}
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte{'\n'})
}

// noStore marks a response that carries a secret or token.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
