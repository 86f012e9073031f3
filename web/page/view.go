package page

import (
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/i18n"
)

// Page is what every page shows around its content; each page's view is a
// struct that embeds it. Everything a person reads is already in the
// page's language (L) or comes from L in the template.
type Page struct {
	L         *i18n.Locale
	Title     string
	Languages []LangLink
	Nav       []NavLink // the visitor's places, from what they may do
	Who       string    // the logged-in user's e-mail; empty for a visitor
	CSRF      string
	Flash     string
	Form      Form
	Version   string
	Styles    []string // the page's own stylesheets besides the layout's
	Refresh   int      // seconds after which the page reloads itself (a job's progress); 0: never
}

// LangLink is the same page in another language.
type LangLink struct {
	Code, Name, URL string
	Current         bool
}

// NavLink is one place a navigation bar offers.
type NavLink struct {
	URL, Label string
	Current    bool
}

// SubNav is a section's navigation: the records of a cooperative, a shop's
// back-office, the platform's orders.
type SubNav struct {
	Label string // the nav's accessible name
	Links []NavLink
}

// Page builds the frame of a page titled title (already in the page's
// language): the language links, the navigation the actor may use, the
// CSRF token and the flash message, which it reads and clears.
func (r *Renderer) Page(c *gin.Context, title string) Page {
	l := Locale(c)
	p := Page{L: l, Title: l.T("site"), CSRF: CSRF(c), Version: r.version, Form: Form{Values: url.Values{}}}
	if title != "" && title != p.Title {
		p.Title = title + " · " + p.Title
	}
	p.Languages = r.languageLinks(c, l)
	a := Actor(c)
	if !a.Anonymous() {
		p.Who = a.Email
		p.Nav = navFor(a, l)
	}
	p.Flash = r.takeFlash(c, l)
	return p
}

// PublicPage builds the frame of a public page (trace, catalogue): its
// title and language links only. It reads nothing of a session: public
// pages are cached and shared, so they must not carry a visitor's flash,
// navigation or token.
func (r *Renderer) PublicPage(c *gin.Context, title string) Page {
	l := Locale(c)
	p := Page{L: l, Title: title, Version: r.version, Form: Form{Values: url.Values{}}}
	if p.Title == "" {
		p.Title = l.T("site")
	}
	// Public pages are cached and shared: their language links carry the
	// trace signature only, never whatever else the first visitor put in
	// the query string (issue 14: a cached page grew from 4.9 to 95 KB).
	p.Languages = r.languageLinks(c, l, "s")
	return p
}

// languageLinks are the links to this page in each language. With keep,
// only those query parameters are carried over; without, all of them.
func (r *Renderer) languageLinks(c *gin.Context, l *i18n.Locale, keep ...string) []LangLink {
	var out []LangLink
	// A partial catalogue is offered only on the pages of a group it
	// completes (the Tamazight one on the trace and harvest pages).
	for _, other := range r.bundle.LanguagesFor(Group(c)) {
		q := c.Request.URL.Query()
		if keep != nil {
			kept := url.Values{}
			for _, k := range keep {
				if v, ok := q[k]; ok {
					kept[k] = v[:1]
				}
			}
			q = kept
		}
		q.Set("lang", other.Code())
		out = append(out, LangLink{Code: other.Code(), Name: other.Name(), URL: c.Request.URL.EscapedPath() + "?" + q.Encode(), Current: other == l})
	}
	return out
}

// navFor is where a user's work is, decided by what they may do (the
// access rules), not by the name of their role.
func navFor(a access.Actor, l *i18n.Locale) []NavLink {
	var nav []NavLink
	switch {
	case a.RequireAdmin() == nil:
		nav = append(nav, NavLink{URL: "/admin", Label: l.T("admin")})
	case a.Org != "" && a.ManageCoop(a.Org) == nil:
		nav = append(nav, NavLink{URL: "/coop/" + url.PathEscape(a.Org), Label: l.T("my_cooperative")})
	case a.Org != "" && a.OperateShop(a.Org) == nil:
		nav = append(nav, NavLink{URL: "/till/" + url.PathEscape(a.Org), Label: l.T("sh_till")},
			NavLink{URL: "/shop-admin/" + url.PathEscape(a.Org), Label: l.T("sh_my_shop")})
	case len(a.Scope) > 0 && a.ReadCoop(a.Scope[0]) == nil:
		nav = append(nav, NavLink{URL: "/", Label: l.T("my_audits")})
	}
	if a.Role == access.Admin || a.Role == access.Auditor { // the network's impact report (issue 17)
		nav = append(nav, NavLink{URL: "/impact", Label: l.T("impact_title")})
	}
	return nav
}

// Home is where a user lands after logging in: the first place of their
// navigation, or the home page.
func Home(a access.Actor) string {
	switch {
	case a.RequireAdmin() == nil:
		return "/admin"
	case a.Org != "" && a.ManageCoop(a.Org) == nil:
		return "/coop/" + a.Org
	case a.Org != "" && a.ManageShop(a.Org) == nil:
		return "/shop-admin/" + a.Org
	}
	return "/"
}
