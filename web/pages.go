package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/web/accounts"
)

//go:embed templates static
var assets embed.FS

// parsePages parses every page once at start: each page template is the
// layout plus its own file.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				k, _ := kv[i].(string)
				m[k] = kv[i+1]
			}
			return m
		},
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(assets, f)
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// pageData is what every page template gets.
type pageData struct {
	T         map[string]string
	Lang      string
	Dir       string
	Languages []langLink
	Actor     access.Actor
	CSRF      string
	Title     string
	Flash     string
	Error     *problem.Error // a form's validation error, shown by its field
	Form      map[string]string
	Data      any
}

type langLink struct {
	Code, Name, URL string
	Current         bool
}

func (s *Server) data(c *gin.Context, title string, d any) *pageData {
	lang := langOf(c)
	var links []langLink
	for _, l := range languages {
		q := c.Request.URL.Query()
		q.Set("lang", l)
		links = append(links, langLink{Code: l, Name: messages[l]["lang_name"], URL: c.Request.URL.Path + "?" + q.Encode(), Current: l == lang})
	}
	t := messages[lang]
	if title == "" {
		title = t["site"]
	} else {
		title = t[title] + " · " + t["site"]
	}
	return &pageData{
		T: t, Lang: lang, Dir: t["dir"], Languages: links, Actor: actorOf(c),
		CSRF: s.csrfToken(c), Title: title, Flash: c.Query("flash"), Data: d, Form: map[string]string{},
	}
}

// render writes a page; a template error becomes a logged 500.
func (s *Server) render(c *gin.Context, status int, page string, d *pageData) {
	t, ok := s.pages[page]
	if !ok {
		s.renderFailure(c, errors.New("no page template "+page))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		s.renderFailure(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (s *Server) renderFailure(c *gin.Context, err error) {
	status, detail := classify(c, err)
	c.Data(status, "text/plain; charset=utf-8", []byte("internal error, request "+detail.RequestID))
}

// renderError shows an error page with a translated message.
func (s *Server) renderError(c *gin.Context, status int, key string) {
	d := s.data(c, "err_title", nil)
	d.Flash = d.T["err_"+key]
	if key == "internal" {
		d.Flash += " " + requestID(c)
	}
	s.render(c, status, "error", d)
	c.Abort()
}

// pageFail shows err as an error page, or as a login redirect when the
// visitor is not logged in.
func (s *Server) pageFail(c *gin.Context, err error) {
	switch problem.CodeOf(err) {
	case problem.Unauthorized:
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
	case problem.Forbidden:
		s.renderError(c, http.StatusForbidden, "forbidden")
	case problem.NotFound:
		s.renderError(c, http.StatusNotFound, "not_found")
	case problem.TooManyRequests:
		s.renderError(c, http.StatusTooManyRequests, "throttled")
	default:
		status, _ := classify(c, err)
		key := "internal"
		if status < 500 {
			key = "invalid"
		}
		s.renderError(c, status, key)
	}
}

func (s *Server) notFound(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		fail(c, problem.New(problem.NotFound, "no such endpoint"))
		return
	}
	s.pageAuth(c)
	s.language(c)
	s.renderError(c, http.StatusNotFound, "not_found")
}

func (s *Server) homePage(c *gin.Context) {
	s.render(c, http.StatusOK, "home", s.data(c, "", nil))
}

func (s *Server) loginPage(c *gin.Context) {
	d := s.data(c, "login", nil)
	d.Form["next"] = safeNext(c.Query("next"))
	s.render(c, http.StatusOK, "login", d)
}

func (s *Server) loginSubmit(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	email, password := c.PostForm("email"), c.PostForm("password")
	u, err := s.deps.Accounts.Authenticate(c.Request.Context(), email, password, c.ClientIP())
	if err != nil {
		d := s.data(c, "login", nil)
		d.Form["email"] = email
		d.Form["next"] = safeNext(c.PostForm("next"))
		status, key := http.StatusUnauthorized, "bad_credentials"
		if problem.CodeOf(err) == problem.TooManyRequests {
			status, key = http.StatusTooManyRequests, "throttled"
		} else if problem.CodeOf(err) != problem.Unauthorized {
			s.pageFail(c, err)
			return
		}
		d.Flash = d.T["err_"+key]
		s.render(c, status, "login", d)
		return
	}
	// A fresh session secret at every login: a cookie planted before login
	// (session fixation) is never promoted to a logged-in session.
	secret, _, err := s.deps.Accounts.IssueToken(c.Request.Context(), u, accounts.KindSession, s.cfg.SessionTTL)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	s.setCookie(c, sessionCookie, secret, int(s.cfg.SessionTTL.Seconds()))
	s.setCookie(c, csrfCookie, "", -1)
	next := safeNext(c.PostForm("next"))
	if next == "" {
		next = homeOf(u.Actor())
	}
	c.Redirect(http.StatusSeeOther, next)
}

// homeOf is where a user lands after logging in.
func homeOf(a access.Actor) string {
	switch a.Role {
	case access.Admin:
		return "/admin"
	case access.CoopManager:
		return "/coop/" + a.Org
	case access.ShopManager:
		return "/shop-admin/" + a.Org
	}
	return "/"
}

func (s *Server) logoutSubmit(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	if sess := sessionOf(c); sess != nil {
		_ = s.deps.Accounts.Revoke(c.Request.Context(), sess.secret)
	}
	s.setCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/")
}
