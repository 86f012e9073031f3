package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/web/webtest"
)

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browser is a cookie-keeping client that does not follow redirects, so
// tests see where a form sends the visitor.
type browser struct {
	t *testing.T
	e *webtest.Env
	c *http.Client
}

func newBrowser(t *testing.T, e *webtest.Env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.e.URL(path))
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.e.URL(path), form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// flashed reports whether a form's answer set the flash cookie: what it
// did travels in a signed cookie, never as text in the URL.
func flashed(resp *http.Response) bool {
	if strings.Contains(resp.Header.Get("Location"), "flash=") {
		return false
	}
	for _, c := range resp.Cookies() {
		if c.Name == "terroir_flash" && c.Value != "" && c.MaxAge > 0 {
			return true
		}
	}
	return false
}

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF field in the page")
	}
	return m[1]
}

func (b *browser) login(next string) *http.Response {
	b.t.Helper()
	_, page := b.get("/login")
	resp, _ := b.post("/login", url.Values{"csrf": {csrfOf(b.t, page)}, "email": {webtest.AdminEmail}, "password": {webtest.Password}, "next": {next}})
	return resp
}

func TestLoginFormSetsASecureSession(t *testing.T) {
	e := webtest.New(t)
	b := newBrowser(t, e)
	resp := b.login("")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "terroir_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v: want HttpOnly and SameSite=Lax", session)
	}
	_, page := b.get("/admin")
	if !strings.Contains(page, "Administration du réseau") {
		t.Fatal("admin page not shown after login")
	}
}

func TestFormsRefuseMissingOrWrongCSRF(t *testing.T) {
	e := webtest.New(t)
	b := newBrowser(t, e)
	if resp, _ := b.post("/login", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.Password}}); resp.StatusCode != 403 {
		t.Fatalf("login without CSRF: %d, want 403", resp.StatusCode)
	}
	b.login("")
	before := e.Count("cooperatives")
	resp, _ := b.post("/admin/cooperatives", url.Values{"csrf": {"forged"}, "code": {"X1"}, "name": {"n"}, "kind": {"argan"}, "commune": {"c"}, "province": {"p"}})
	if resp.StatusCode != 403 || e.Count("cooperatives") != before {
		t.Fatalf("forged CSRF: %d, cooperatives %d→%d", resp.StatusCode, before, e.Count("cooperatives"))
	}
}

func TestLoginNeverRedirectsOffSite(t *testing.T) {
	for _, next := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)",
		"/\t/evil.example", "/\n/evil.example", "/\r//evil.example", "/ /evil.example", "/@evil.example", "/x\\..\\evil"} {
		e := webtest.New(t)
		resp := newBrowser(t, e).login(next)
		if loc := resp.Header.Get("Location"); loc != "/admin" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
	e := webtest.New(t)
	if loc := newBrowser(t, e).login("/coop/X?lang=ar").Header.Get("Location"); loc != "/coop/X?lang=ar" {
		t.Errorf("local next lost: %q", loc)
	}
}

func TestSessionFixationCookieIsNotPromoted(t *testing.T) {
	e := webtest.New(t)
	b := newBrowser(t, e)
	u, _ := url.Parse(e.URL("/"))
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "terroir_session", Value: "planted-by-attacker", Path: "/"}})
	b.login("")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "terroir_session" && c.Value == "planted-by-attacker" {
			t.Fatal("planted session cookie survived login")
		}
	}
}

func TestRefusedFormKeepsWhatWasTyped(t *testing.T) {
	e := webtest.New(t)
	b := newBrowser(t, e)
	b.login("")
	_, page := b.get("/admin")
	resp, page := b.post("/admin/cooperatives", url.Values{"csrf": {csrfOf(t, page)}, "code": {"bad code!"}, "name": {"Coopérative Tafraout"}, "kind": {"almond"}, "commune": {"Tafraout"}, "province": {"Tiznit"}})
	if resp.StatusCode != 400 {
		t.Fatalf("invalid form: %d", resp.StatusCode)
	}
	for _, want := range []string{`value="Coopérative Tafraout"`, `value="Tafraout"`, `role="alert"`, "Code : doit compter 2 à 32 lettres"} {
		if !strings.Contains(page, want) {
			t.Errorf("re-shown form lacks %s", want)
		}
	}
}

func TestPagesSpeakThreeLanguages(t *testing.T) {
	e := webtest.New(t)
	b := newBrowser(t, e)
	_, page := b.get("/?lang=ar")
	if !strings.Contains(page, `dir="rtl"`) || !strings.Contains(page, `lang="ar"`) {
		t.Fatal("Arabic page is not right-to-left")
	}
	_, page = b.get("/") // the choice is remembered
	if !strings.Contains(page, `lang="ar"`) {
		t.Fatal("language choice not remembered")
	}
	req, _ := http.NewRequest("GET", e.URL("/"), nil)
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9,fr;q=0.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `lang="en"`) {
		t.Fatal("Accept-Language not honoured")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP missing: %q", csp)
	}
}

func TestAdminPageNeedsAnAdmin(t *testing.T) {
	e := webtest.New(t)
	b := newBrowser(t, e)
	if resp, _ := b.get("/admin"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Fatalf("anonymous /admin: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
