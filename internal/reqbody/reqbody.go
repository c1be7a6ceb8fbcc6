// Package reqbody reads the bodies of the JSON API's requests (the login's,
// the introspection's): a JSON object, or a urlencoded form, holding a few
// named string fields. It refuses ambiguity rather than resolving it,
// because two parsers (a gateway and autho) that resolve it differently
// could be played against each other: invalid UTF-8, a key given twice, a
// named field in another letter case ("API_TOKEN"), anything but one object
// and trailing data are all autho.ErrMalformedBody. What a field's absence
// or its value means is the caller's to say.
package reqbody

import (
	"io"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/autho/autho"
)

// MaxBytes is the largest body accepted (413 beyond).
const MaxBytes = 64 << 10

// ContentType accepts JSON (or no Content-Type at all) and urlencoded
// forms, and reports which; anything else is ErrUnsupportedMedia.
func ContentType(header string) (form bool, err error) {
	// The exact spellings clients send answer without mime.ParseMediaType,
	// which allocates a parameter map on every request.
	switch header {
	case "application/json":
		return false, nil
	case "application/x-www-form-urlencoded":
		return true, nil
	}
	if strings.TrimSpace(header) == "" {
		return false, nil
	}
	mt, _, perr := mime.ParseMediaType(header)
	switch {
	case perr != nil:
		return false, autho.ErrUnsupportedMedia
	case mt == "application/json":
		return false, nil
	case mt == "application/x-www-form-urlencoded":
		return true, nil
	}
	return false, autho.ErrUnsupportedMedia
}

// Check is what is known of a body before reading it: its Content-Type
// header (415, see ContentType) and its declared length (413 beyond
// MaxBytes; -1 when unknown).
func Check(contentType string, length int64) (form bool, err error) {
	if form, err = ContentType(contentType); err != nil {
		return false, err
	}
	if length > MaxBytes {
		return false, autho.ErrBodyTooLarge
	}
	return form, nil
}

// Read reads a body: ErrMalformedBody if it cannot be read,
// ErrBodyTooLarge beyond MaxBytes.
func Read(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, autho.ErrMalformedBody
	}
	if len(body) > MaxBytes {
		return nil, autho.ErrBodyTooLarge
	}
	return body, nil
}

// Field is a top-level field a caller wants from a body.
type Field struct {
	Name   string // matched exactly
	Value  string // the value, when it is a string
	Found  bool   // the key is present, with any value
	String bool   // the value is a string (in a form, always)
}

// Parse reads body, a JSON object or (form) a urlencoded form, into fields,
// answering ErrMalformedBody for anything ambiguous (see the package
// comment). Keys other than the fields' names are checked and ignored.
func Parse(body []byte, form bool, fields ...*Field) error {
	if !utf8.Valid(body) {
		return autho.ErrMalformedBody
	}
	if form {
		return parseForm(body, fields)
	}
	return parseJSON(body, fields)
}

// lookup returns the field named k, and whether k is some field's name in
// another letter case.
func lookup(fields []*Field, k string) (f *Field, variant bool) {
	for _, fl := range fields {
		switch {
		case k == fl.Name:
			f = fl
		case strings.EqualFold(k, fl.Name):
			variant = true
		}
	}
	return f, variant
}

func parseForm(body []byte, fields []*Field) error {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return autho.ErrMalformedBody
	}
	for k, v := range vals {
		f, variant := lookup(fields, k)
		if variant || (f != nil && len(v) > 1) {
			return autho.ErrMalformedBody
		}
		// Decoded keys and values must be valid text too (%ff is valid
		// escaping of an invalid byte).
		if !utf8.ValidString(k) {
			return autho.ErrMalformedBody
		}
		for _, s := range v {
			if !utf8.ValidString(s) {
				return autho.ErrMalformedBody
			}
		}
		if f != nil {
			f.Value, f.Found, f.String = v[0], true, true
		}
	}
	return nil
}
