package page

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/web/i18n"
)

//go:embed templates
var templates embed.FS

// Renderer writes pages. Every template is parsed once, at start: the
// layouts and partials (templates/layouts, templates/partials) make a base
// set, and each page file of each audience is parsed into its own copy of
// it, so every page can use every partial. A page file begins with
// {{template "app" .}} (back-office and storefront) or {{template "public"
// .}} (trace and catalogue) and defines "content". It is safe for
// concurrent use.
type Renderer struct {
	bundle   *i18n.Bundle
	version  string
	flashKey []byte
	secure   bool
	pages    map[string]*template.Template // "backoffice/harvests" → its set
}

// Options configure a Renderer.
type Options struct {
	Bundle        *i18n.Bundle
	Version       string // added to static URLs (?v=), so phones cache them long
	FlashKey      []byte // signs flash cookies
	SecureCookies bool   // the site is served over HTTPS
}

// NewRenderer parses the layouts, the partials, this package's own pages
// (the error pages, as "page/…") and every audience's templates/*.html,
// named audience + "/" + the file's base name.
func NewRenderer(opt Options, audiences map[string]fs.FS) (*Renderer, error) {
	if opt.Bundle == nil || len(opt.FlashKey) < 16 {
		return nil, fmt.Errorf("page: a renderer needs the catalogues and a flash key of 16 bytes or more")
	}
	r := &Renderer{bundle: opt.Bundle, version: opt.Version, flashKey: opt.FlashKey, secure: opt.SecureCookies, pages: map[string]*template.Template{}}
	base, err := template.New("base").ParseFS(templates, "templates/layouts/*.html", "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	all := map[string]fs.FS{"page": templates}
	for name, fsys := range audiences {
		all[name] = fsys
	}
	for audience, fsys := range all {
		files, err := fs.Glob(fsys, "templates/*.html")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			t, err := template.Must(base.Clone()).ParseFS(fsys, f)
			if err != nil {
				return nil, fmt.Errorf("page: %s: %w", f, err)
			}
			r.pages[audience+"/"+strings.TrimSuffix(path.Base(f), ".html")] = t
		}
	}
	return r, nil
}

// Bundle is the catalogues the pages are written from.
func (r *Renderer) Bundle() *i18n.Bundle { return r.bundle }

// Templates lists the parsed pages by name, for the test that checks every
// key a template uses is in every catalogue.
func (r *Renderer) Templates() map[string]*template.Template { return r.pages }

// Names lists the pages' names, sorted.
func (r *Renderer) Names() []string {
	out := make([]string, 0, len(r.pages))
	for n := range r.pages {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Bytes renders a page to bytes (for pages kept in a cache).
func (r *Renderer) Bytes(name string, view any) ([]byte, error) {
	t, ok := r.pages[name]
	if !ok {
		return nil, fmt.Errorf("page: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, path.Base(name)+".html", view); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Render writes a page with a status; a template error is a logged 500. A
// page is private and never stored by caches (it may name its visitor).
func (r *Renderer) Render(c *gin.Context, status int, name string, view any) {
	b, err := r.Bytes(name, view)
	if err != nil {
		Logger(c).ErrorContext(c.Request.Context(), "render", "page", name, "err", err.Error(), "request_id", RequestID(c))
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error, request "+RequestID(c)))
		c.Abort()
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", b)
}
