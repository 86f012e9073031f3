package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/internal/browsertest"
	"github.com/terroir-coop/terroir/web"
)

// crawlWidth is the narrowest phone the pages must fit (issue 12).
const crawlWidth, crawlHeight = 360, 780

// pagesPerRole bounds the crawl from each role's landing page.
const pagesPerRole = 14

// rawID is what an internal identifier looks like ("prc_b6wtjjeayfrjesbd"):
// a person should read names, never these. One inside a URL (an e-mail's
// link, shown in the outbox) is part of an address, not a name: the
// optional slash before it tells them apart.
var rawID = regexp.MustCompile(`/?\b[a-z]{3}_[a-z0-9]{8,}\b`)

// TestEveryPageOfEveryDemoRoleFitsAPhone signs in as each demo account on
// the demo network and crawls the pages it can reach from its landing page
// (same-origin links, bounded), in French and in Arabic at 360 px, and
// fails when a page scrolls sideways, shows a raw identifier, is not
// right-to-left in Arabic, or has a serious or critical axe-core
// violation. Each role also makes one mistake in one of its forms, in
// French and in Arabic (formMistakes), and the refusal must be in the
// page's language, in the form, with the field marked and what was typed
// kept. Screenshots of each role's landing page and of each refused form
// are kept ($TERROIR_SCREENSHOTS, or the test's temporary directory).
func TestEveryPageOfEveryDemoRoleFitsAPhone(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the demo in a browser")
	}
	axe, err := os.ReadFile(filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is not installed (npm ci --prefix cmd/terroir/testdata/axe): %v", err)
		}
		t.Logf("axe-core not installed, accessibility not checked: %v", err)
	}
	base := demoServer(t)
	shots := t.TempDir()
	seen := map[string]bool{} // pages already checked (public pages are the same for every role)
	for _, u := range demoUsers {
		t.Run(u.Email, func(t *testing.T) {
			ctx := browsertest.New(t, crawlWidth, crawlHeight, 5*time.Minute) // a fresh profile: a session of its own
			landing := login(t, ctx, base, u.Email)
			browsertest.Screenshot(t, ctx, shots, "landing-"+strings.Split(u.Email, "@")[0])
			if fm, ok := formMistakes()[u.Email]; ok {
				for _, lang := range []string{"fr", "ar"} {
					checkFormMistake(t, ctx, base, fm, lang)
					browsertest.Screenshot(t, ctx, shots, "mistake-"+strings.Split(u.Email, "@")[0]+"-"+lang)
				}
			}
			queue := []string{landing}
			visited := map[string]bool{landing: true}
			for n := 0; len(queue) > 0 && n < pagesPerRole; n++ {
				path := queue[0]
				queue = queue[1:]
				links := checkPage(t, ctx, base, path, "fr", axe)
				if !seen[path] {
					checkPage(t, ctx, base, path, "ar", axe)
				}
				seen[path] = true
				for _, l := range links {
					if !visited[l] {
						visited[l] = true
						queue = append(queue, l)
					}
				}
			}
		})
	}
}

// demoServer runs the server in this process on the demo network (what
// `terroir serve --demo` seeds) and returns its base URL.
func demoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx := context.Background()
	cfg := config{DataDir: t.TempDir(), PublicURL: base}
	a, err := openApp(ctx, cfg, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	if _, err := seedDemo(ctx, a, io.Discard); err != nil {
		t.Fatal(err)
	}
	codes, err := a.traceCodes(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := web.New(web.Config{PublicURL: base, Version: "test"},
		web.Deps{Store: a.store, Accounts: a.accounts, Traceability: a.trace, Shops: a.shops, Stock: a.stock, Catalog: a.catalog,
			Codes: codes, Orders: a.orders, Payments: a.payments, Replay: a.replay, Logger: newLogger(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: handler}}
	srv.Start()
	t.Cleanup(srv.Close)
	return base
}

// login signs in through the form and returns the path it lands on.
func login(t *testing.T, ctx context.Context, base, email string) string {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login?lang=fr"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, email),
		chromedp.SendKeys(`input[name=password]`, demoPassword),
		chromedp.Submit(`input[name=password]`),
	)
	if err != nil {
		t.Fatalf("log in as %s: %v", email, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + "|" + document.readyState + "|" + document.body.getBoundingClientRect().width`))
		if path, state, ok := strings.Cut(loc, "|"); err == nil && ok && path != "/login" && strings.HasPrefix(state, "complete|") && !strings.HasSuffix(state, "|0") {
			return path
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still on the login page", email)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pageFacts is what checkPage reads of a page in one evaluation.
type pageFacts struct {
	Width, ScrollWidth int
	Dir, Lang, Text    string
	Links              []string
	Wide               []string // the elements that stick out past the right edge
}

// checkPage opens path in lang and reports what is wrong with it; it
// returns the same-origin page links found there.
func checkPage(t *testing.T, ctx context.Context, base, path, lang string, axe []byte) []string {
	t.Helper()
	u := path + sep(path) + "lang=" + lang
	if err := chromedp.Do(ctx, chromedp.Navigate(base+u), chromedp.WaitReady(`body`)); err != nil {
		t.Errorf("%s: %v", u, err)
		return nil
	}
	f, err := chromedp.Run(ctx, chromedp.Evaluate[pageFacts](`(() => {
		const vw = window.innerWidth;
		const wide = [];
		for (const el of document.body.querySelectorAll("*")) {
			const r = el.getBoundingClientRect();
			if (r.width > 0 && (r.right > vw + 1 || r.left < -1) && !el.closest("[data-scroll], .scroll, .table-scroll")) {
				let p = el.parentElement, clipped = false;
				while (p) { const s = getComputedStyle(p); if (s.overflowX === "auto" || s.overflowX === "scroll" || s.overflowX === "hidden") { clipped = true; break } p = p.parentElement }
				if (!clipped) wide.push(el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ")[0] : ""));
			}
		}
		return {Width: vw, ScrollWidth: document.documentElement.scrollWidth, Dir: document.documentElement.dir,
			Lang: document.documentElement.lang, Text: document.body.innerText, Wide: wide.slice(0, 5),
			Links: [...document.querySelectorAll("a[href]")].map(a => a.href)};
	})()`))
	if err != nil {
		t.Errorf("%s: %v", u, err)
		return nil
	}
	if f.ScrollWidth > f.Width {
		t.Errorf("%s: the page is %d px wide on a %d px screen (%v)", u, f.ScrollWidth, f.Width, f.Wide)
	}
	var ids []string
	for _, m := range rawID.FindAllString(f.Text, -1) {
		if !strings.HasPrefix(m, "/") && len(ids) < 3 {
			ids = append(ids, m)
		}
	}
	if ids != nil {
		t.Errorf("%s: raw identifiers in the text: %v", u, ids)
	}
	if lang == "ar" && f.Dir != "rtl" {
		t.Errorf("%s: dir=%q on the Arabic page", u, f.Dir)
	}
	if f.Lang != lang {
		t.Errorf("%s: lang=%q", u, f.Lang)
	}
	if len(axe) > 0 {
		type violation struct {
			ID, Impact, Help string
			Nodes            int
			First            string
		}
		vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](string(axe)+`;
			axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
				.filter(v => v.impact === "serious" || v.impact === "critical")
				.map(v => ({ID: v.id, Impact: v.impact, Help: v.help, Nodes: v.nodes.length, First: String(v.nodes[0].target)})))`,
			func(p *runtime.EvaluateParams) { yes := true; p.AwaitPromise = &yes }))
		if err != nil {
			t.Errorf("%s: axe: %v", u, err)
		}
		for _, v := range vs {
			t.Errorf("%s: axe %s (%s, %d elements, first %s): %s", u, v.ID, v.Impact, v.Nodes, v.First, v.Help)
		}
	}
	var links []string
	for _, href := range f.Links {
		l, err := url.Parse(href)
		if err != nil || l.Scheme+"://"+l.Host != base || !crawlable(l.Path) {
			continue
		}
		q := l.Query()
		q.Del("lang")
		p := l.Path
		if enc := q.Encode(); enc != "" {
			p += "?" + enc
		}
		links = append(links, p)
	}
	return links
}

// crawlable reports whether a same-origin link is a page to check: not a
// download, an API answer, a static file or a way out.
func crawlable(p string) bool {
	for _, prefix := range []string{"/api/", "/static/", "/photos/", "/logout", "/login", "/metrics", "/healthz", "/readyz", "/.well-known/"} {
		if strings.HasPrefix(p, prefix) {
			return false
		}
	}
	for _, ext := range []string{".csv", ".pdf", ".png", ".svg", ".zip", ".json", ".jsonld", ".geojson", ".xlsx"} {
		if strings.HasSuffix(p, ext) {
			return false
		}
	}
	return !strings.Contains(p, "/labels") && !strings.Contains(p, "/qr")
}

func sep(p string) string {
	if strings.Contains(p, "?") {
		return "&"
	}
	return "?"
}

// formMistake is one wrong entry in one form of a role's pages.
type formMistake struct {
	path, form string            // the page, and the CSS selector of its form
	fill       map[string]string // field name → what is typed ("today": the day's date)
	field      string            // the field that is wrong: marked, its value kept
}

// formMistakes are the demo roles' mistakes, by e-mail: a cooperative
// manager records a harvest of a negative mass, a shop manager writes off
// more jars than the shop holds, the admin gives a cooperative a code with
// spaces. The auditor reads and fills no form.
func formMistakes() map[string]formMistake {
	harvest := func(coop string) formMistake {
		return formMistake{path: "/coop/" + coop + "/harvests", form: `form[action="/coop/` + coop + `/harvests"]`,
			fill: map[string]string{"date": "today", "amount": "-5"}, field: "amount"}
	}
	writeOff := func(shop string) formMistake {
		return formMistake{path: "/shop-admin/" + shop, form: "form#adjust",
			fill: map[string]string{"kind": "loss", "units": "9999", "reason": "casse"}, field: "units"}
	}
	return map[string]formMistake{
		"admin@terroir.demo": {path: "/admin", form: `form[action="/admin/cooperatives"]`,
			fill: map[string]string{"code": "coop du douar", "name": "Coopérative du douar", "commune": "Tata", "province": "Tata"}, field: "code"},
		"safran@terroir.demo":     harvest("SIROUA-SAFRAN"),
		"argan@terroir.demo":      harvest("TIWIZWINE"),
		"pamm@terroir.demo":       harvest("TIFAOUT"),
		"taroudannt@terroir.demo": writeOff("TAROUDANNT"),
		"plateforme@terroir.demo": writeOff("EU-PLATFORM"),
	}
}

// englishWords are words of the English messages that no French or
// Arabic refusal contains.
var englishWords = regexp.MustCompile(`(?i)\b(the|must|is|has|have|only|cannot|already|available|required|whole|got|should|than|more|not|field)\b`)

// latinWord is a word in Latin letters, which an Arabic refusal may hold
// only as a code (in capitals) or as what was typed.
var latinWord = regexp.MustCompile(`[A-Za-z]{3,}`)

// checkFormMistake fills fm's form in lang, sends it without the
// browser's own checks (a phone's browser may not make them) and checks
// the refusal.
func checkFormMistake(t *testing.T, ctx context.Context, base string, fm formMistake, lang string) {
	t.Helper()
	u := fm.path + sep(fm.path) + "lang=" + lang
	if err := chromedp.Do(ctx, chromedp.Navigate(base+u), chromedp.WaitReady(`body`)); err != nil {
		t.Errorf("%s: %v", u, err)
		return
	}
	type refusal struct {
		Found           bool
		Message, Value  string
		Invalid, Action string
	}
	fill, _ := json.Marshal(fm.fill)
	sel, _ := json.Marshal(fm.form)
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const f = document.querySelector(`+string(sel)+`);
		if (!f) return false;
		for (const d of document.querySelectorAll("details")) d.open = true;
		for (const [name, v] of Object.entries(`+string(fill)+`)) {
			f.elements[name].value = v === "today" ? new Date().toISOString().slice(0, 10) : v;
		}
		f.submit();
		return true;
	})()`))
	if err != nil {
		t.Errorf("%s: fill the form %s: %v", u, fm.form, err)
		return
	}
	var got refusal
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err = chromedp.Run(ctx, chromedp.Evaluate[refusal](`(() => {
			const f = document.querySelector(`+string(sel)+`);
			const e = f && f.querySelector("p.error");
			if (!e || document.readyState !== "complete") return {Found: false};
			const bad = f.querySelector("[aria-invalid=true]");
			return {Found: true, Message: e.innerText, Value: f.elements[`+fmt.Sprintf("%q", fm.field)+`].value,
				Invalid: bad ? bad.name : "", Action: f.getAttribute("action") || ""};
		})()`))
		if err == nil && got.Found {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: no refusal in the form %s after sending %v (%v)", u, fm.form, fm.fill, err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got.Invalid != fm.field {
		t.Errorf("%s: the refusal %q marks the field %q, want %q", u, got.Message, got.Invalid, fm.field)
	}
	if got.Value != fm.fill[fm.field] {
		t.Errorf("%s: the field %s holds %q after the refusal, the person typed %q", u, fm.field, got.Value, fm.fill[fm.field])
	}
	msg := strings.ReplaceAll(got.Message, fm.fill[fm.field], "")
	switch lang {
	case "fr":
		if w := englishWords.FindString(msg); w != "" {
			t.Errorf("%s: English word %q in the French refusal %q", u, w, got.Message)
		}
	case "ar":
		if !strings.ContainsFunc(msg, func(r rune) bool { return r >= 0x0600 && r <= 0x06FF }) {
			t.Errorf("%s: the Arabic refusal %q has no Arabic", u, got.Message)
		}
		for _, w := range latinWord.FindAllString(msg, -1) {
			if w != strings.ToUpper(w) { // a code (SAF-…, MAD) is in capitals
				t.Errorf("%s: Latin word %q in the Arabic refusal %q", u, w, got.Message)
				break
			}
		}
	}
}
