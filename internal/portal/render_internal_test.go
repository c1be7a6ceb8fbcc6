package portal

import (
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// templatesWith is the real templates with some files replaced (a nil
// value removes the file).
func templatesWith(t *testing.T, change map[string]*fstest.MapFile) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range change {
		if f == nil {
			delete(m, name)
		} else {
			m[name] = f
		}
	}
	return m
}

func TestParsePages(t *testing.T) {
	static, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		change  map[string]*fstest.MapFile
		wantErr string
	}{
		{"the real templates", nil, ""},
		{"a page missing", map[string]*fstest.MapFile{"templates/audit.html": nil}, "templates/audit.html is missing"},
		{"the layout missing", map[string]*fstest.MapFile{"templates/layout.html": nil}, "portal templates"},
		{"a page that does not parse", map[string]*fstest.MapFile{"templates/tokens.html": {Data: []byte(`{{define "content"}}{{if}}{{end}}`)}}, "tokens.html"},
		{"a page without content", map[string]*fstest.MapFile{"templates/login.html": {Data: []byte(`<p>hello</p>`)}}, `login.html defines no "content"`},
		{"an unknown function", map[string]*fstest.MapFile{"templates/account.html": {Data: []byte(`{{define "content"}}{{nosuch}}{{end}}`)}}, "nosuch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parsePages(templatesWith(t, tt.change), static, time.UTC)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parsePages = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

// A page that fails half-way through rendering shows a clean error page,
// never the half that was rendered.
func TestRender_FailsWhole(t *testing.T) {
	static, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	ps, err := parsePages(templatesWith(t, map[string]*fstest.MapFile{
		"templates/error.html": {Data: []byte(`{{define "content"}}<p>half a page</p>{{asset "missing.css"}}{{end}}`)},
	}), static, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	p := &Portal{pages: ps, log: slog.New(slog.DiscardHandler)}
	w := httptest.NewRecorder()
	p.render(w, httptest.NewRequest("GET", "/portal/x", nil), 404, &errorPage{layout: layout{Title: "x"}})
	if w.Code != 500 || strings.Contains(w.Body.String(), "half a page") || !strings.Contains(w.Body.String(), "Something went wrong") {
		t.Fatalf("got %d:\n%s", w.Code, w.Body.String())
	}
}
