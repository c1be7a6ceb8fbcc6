package adminapi

import (
	_ "embed"
	"net/http"
)

// openAPI is the admin API's OpenAPI 3.1 document, kept by hand beside the
// route table; the tests hold the two to each other, and every answer the
// contract tests receive to the document's schemas.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
