package main

import (
	"context"
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
// violation. Screenshots of each role's landing page are kept
// ($TERROIR_SCREENSHOTS, or the test's temporary directory).
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
