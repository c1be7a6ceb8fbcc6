// Package wire is autho's JSON wire format: the envelope every answer of
// the JSON API is in, the HTTP status each result code is answered with,
// and the writers of such answers. The server, the gateway and the public
// bearer package answer through it, so that an answer is spelled in one
// place. It imports only the domain (for autho.Error), so that bearer can
// use it without pulling in anything of the server.
package wire

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/autho/autho"
)

// Envelope is the shape of every JSON answer. Field order is the contract's.
type Envelope struct {
	Data   any      `json:"data"`
	Meta   struct{} `json:"meta"`
	Result string   `json:"result"`
	Status string   `json:"status"`
}

// Message is the data of an answer that only says something.
type Message struct {
	Message string `json:"message"`
}

// OK is the envelope of a success, result "00".
func OK(data any) Envelope { return Envelope{Data: data, Result: "00", Status: "OK"} }

// Error is the envelope of the contract's answer e.
func Error(e *autho.Error) Envelope {
	return Envelope{Data: Message{e.Message}, Result: e.Code, Status: "ERROR"}
}

type answer struct {
	status int
	// challenge is the WWW-Authenticate of a bearer refusal (RFC 6750 §3).
	challenge string
}

// answers is the one table from result codes to HTTP statuses.
var answers = map[string]answer{
	"00": {http.StatusOK, ""},
	"01": {http.StatusBadRequest, ""},
	"02": {http.StatusUnauthorized, ""},
	"03": {http.StatusForbidden, ""},
	"04": {http.StatusUnauthorized, ""},
	"05": {http.StatusUnauthorized, ""},
	"06": {http.StatusUnauthorized, ""},
	"07": {http.StatusForbidden, ""},
	"08": {http.StatusBadRequest, ""},
	"09": {http.StatusTooManyRequests, ""},
	"10": {http.StatusMethodNotAllowed, ""},
	"11": {http.StatusRequestEntityTooLarge, ""},
	"12": {http.StatusNotFound, ""},
	"13": {http.StatusUnsupportedMediaType, ""},
	"14": {http.StatusServiceUnavailable, ""},
	"15": {http.StatusUnauthorized, `Bearer realm="autho"`},
	"16": {http.StatusUnauthorized, `Bearer realm="autho", error="invalid_token"`},
	// The token is good but does not grant the scope; the challenge names
	// the scope, so bearer.RequireScope writes it.
	"17": {http.StatusForbidden, ""},
	"99": {http.StatusInternalServerError, ""},
}

// Status is the HTTP status of a result code; 500 for a code the table
// does not know.
func Status(code string) int {
	if a, ok := answers[code]; ok {
		return a.status
	}
	return http.StatusInternalServerError
}

// Write answers with e at the status of its result code, in the framing of
// every answer of autho's server: see WriteJSON. A bearer refusal (15, 16)
// carries its challenge.
func Write(w http.ResponseWriter, e Envelope) {
	status, b := encode(w, e)
	WriteJSON(w, status, b)
}

// WriteJSON writes b, a JSON document, as the whole answer: Content-Type
// application/json, Content-Length, X-Content-Type-Options nosniff, and b
// followed by a newline.
func WriteJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte{'\n'})
}

// WriteBare answers with e as Write does, but with the JSON alone: no final
// newline, no Content-Length or nosniff header. It is how package bearer
// has always answered, and services that import it may compare those
// answers byte for byte.
func WriteBare(w http.ResponseWriter, e Envelope) {
	status, b := encode(w, e)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// encode returns e's status and JSON, and sets its challenge if it has one.
func encode(w http.ResponseWriter, e Envelope) (int, []byte) {
	b, err := json.Marshal(e)
	if err != nil {
		// Our own types always marshal; this is a programming error.
		e = Error(autho.ErrInternal)
		b, _ = json.Marshal(e)
	}
	a, ok := answers[e.Result]
	if !ok {
		return http.StatusInternalServerError, b
	}
	if a.challenge != "" {
		w.Header().Set("WWW-Authenticate", a.challenge)
	}
	return a.status, b
}
