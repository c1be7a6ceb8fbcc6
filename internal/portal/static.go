package portal

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
)

//go:embed static
var staticFS embed.FS

// assets are the embedded static files, each with a short hash of its
// content. Pages link to name?v=hash, so a browser may cache a file for a
// year and still fetch the new one after an upgrade.
type assets struct {
	files map[string]asset
}

type asset struct {
	body        []byte
	version     string
	contentType string
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			return fmt.Errorf("portal: static file %s: unknown content type", p)
		}
		a.files[path.Base(p)] = asset{body: b, version: hex.EncodeToString(sum[:6]), contentType: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("portal static files: %w", err)
	}
	return a, nil
}

// url is the versioned address of a static file; an unknown name fails the
// template at start-up checks rather than linking to nothing.
func (a *assets) url(name string) (string, error) {
	f, ok := a.files[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/portal/static/" + name + "?v=" + f.version, nil
}

// serveStatic answers /portal/static/{name}.
func (p *Portal) serveStatic(w http.ResponseWriter, r *http.Request, _ *visit) error {
	f, ok := p.static.files[r.PathValue("name")]
	if !ok {
		return errNotFound
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Length", strconv.Itoa(len(f.body)))
	h.Set("ETag", `"`+f.version+`"`)
	if r.URL.Query().Get("v") == f.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if match := r.Header.Get("If-None-Match"); match == `"`+f.version+`"` {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if r.Method != http.MethodHead {
		w.Write(f.body)
	}
	return nil
}
