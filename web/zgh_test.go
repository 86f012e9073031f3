package web_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"

	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/webtest"
)

// The Tamazight catalogue (issue 12 item 7) is partial: it is offered on the
// trace and harvest pages, which it completes, and nowhere else.

// fallbackShown builds the catalogues with every French and English entry
// replaced by ⟦key⟧ and the partial catalogues as they are: a page in a
// partial language that prints a key it lacks shows the key between those
// brackets, instead of French text that would pass unnoticed.
func fallbackShown(t *testing.T) *i18n.Bundle {
	t.Helper()
	dir := filepath.Join(moduleRoot(t), "web", "i18n", "locales")
	read := func(tag string) map[string]any {
		b, err := os.ReadFile(filepath.Join(dir, tag+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	fr, en := read("fr"), read("en")
	keys := map[string]any{}
	for _, f := range []map[string]any{fr, en} {
		for k := range f["messages"].(map[string]any) {
			keys[k] = "⟦" + k + "⟧"
		}
	}
	fsys := fstest.MapFS{}
	for tag, f := range map[string]map[string]any{"fr": fr, "en": en} {
		f["messages"] = keys
		b, _ := json.Marshal(f)
		fsys["l/"+tag+".json"] = &fstest.MapFile{Data: b}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, p := range files {
		f := read(strings.TrimSuffix(filepath.Base(p), ".json"))
		if g, _ := f["groups"].([]any); len(g) > 0 {
			b, _ := os.ReadFile(p)
			fsys["l/"+filepath.Base(p)] = &fstest.MapFile{Data: b}
		}
	}
	b, err := i18n.LoadFS(fsys, "l")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var fallbackMark = regexp.MustCompile(`⟦[^⟧]*⟧`)

// visibleText is what a page shows, roughly: its text outside tags,
// scripts and styles.
var (
	scriptOrStyle = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>`)
	tag           = regexp.MustCompile(`(?s)<[^>]*>`)
)

func visibleText(page string) string {
	return html.UnescapeString(tag.ReplaceAllString(scriptOrStyle.ReplaceAllString(page, " "), " "))
}

// tifinaghShare is the part of a text's letters written in Tifinagh.
func tifinaghShare(s string) float64 {
	var tfng, letters float64
	for _, r := range s {
		if r >= 0x2D30 && r <= 0x2D7F {
			tfng++
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if letters == 0 {
		return 0
	}
	return tfng / letters
}

// inTamazight checks that a page is a Tamazight page with nothing said in
// another catalogue's words: lang="zgh", no fallback mark, Tifinagh text.
func inTamazight(t *testing.T, what string, status int, page string, wantStatus int) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("%s: status %d, want %d", what, status, wantStatus)
	}
	if !strings.Contains(page, `<html lang="zgh" dir="ltr">`) {
		t.Errorf("%s: not a Tamazight page: %.200s", what, page)
	}
	if m := fallbackMark.FindAllString(page, -1); len(m) > 0 {
		slices.Sort(m)
		t.Errorf("%s: keys the zgh catalogue lacks fell back: %s", what, strings.Join(slices.Compact(m), " "))
	}
	if !strings.Contains(page, "ⵜⴰⵎⴰⵣⵉⵖⵜ") || !strings.Contains(page, `class="review-note"`) {
		t.Errorf("%s: no language link to ⵜⴰⵎⴰⵣⵉⵖⵜ or no review note", what)
	}
}

func TestPartialCataloguesCompleteTheirGroups(t *testing.T) {
	e := webtest.New(t)
	groups := e.Web.GroupKeys()
	if len(groups["trace"]) < 60 || len(groups["harvest"]) < 100 {
		t.Fatalf("page groups have %d and %d keys: the template walk misses keys", len(groups["trace"]), len(groups["harvest"]))
	}
	for _, k := range []string{"tr_authentic", "tr_origin", "tagline", "step.drying", "kind.saffron_dried"} {
		if !slices.Contains(groups["trace"], k) {
			t.Errorf("the trace group lacks %q", k)
		}
	}
	for _, k := range []string{"new_harvest", "off_title", "correct_reason", "is in the future", "kind.saffron", "field.quantity"} {
		if !slices.Contains(groups["harvest"], k) {
			t.Errorf("the harvest group lacks %q", k)
		}
	}
	b := e.Web.Bundle()
	fr := b.Locale(i18n.Default)
	for _, l := range b.Partial() {
		for _, g := range l.Groups() {
			keys, ok := groups[g]
			if !ok {
				t.Errorf("%s.json names the page group %q, which web does not define (language.go)", l.Code(), g)
				continue
			}
			var missing []string
			for _, k := range keys {
				if !l.Has(k) {
					missing = append(missing, "  "+strconvQuote(k)+": "+strconvQuote(fr.T(k))+",")
				}
			}
			if len(missing) > 0 {
				t.Errorf("%s.json lacks %d keys of the %s pages, which are therefore shown in French; add them (French text given):\n%s",
					l.Code(), len(missing), g, strings.Join(missing, "\n"))
			}
			if !l.Completes(g) {
				t.Errorf("%s is not offered on the %s pages", l.Code(), g)
			}
		}
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestTracePagesInTamazightHaveNoFallback(t *testing.T) {
	e := webtest.NewWith(t, webtest.Options{Bundle: fallbackShown(t)})
	p := newPackedSaffron(t, e, true)
	signed := traceURL(t, e, p.packed.Code, "U3")
	canonical, _, _ := strings.Cut(signed, "?")
	for _, tc := range []struct {
		what, path string
		status     int
		says       string
	}{
		{"authentic", signed + "&lang=zgh", 200, "ⴰⴼⴰⵔⵉⵙ ⵏ ⵜⵉⴷⵜ"},
		{"unsigned", canonical + "?lang=zgh", 200, "ⴰⵏⴰⵎⴰⵍ ⵓⵔ ⵉⵜⵜⵓⵙⴼⵔⴽ"},
		{"bad signature", canonical + "?s=AAAAAAAAAAAAAAAAAAAAAA&lang=zgh", 200, "ⵃⴹⵓ: ⴰⵏⴰⵎⴰⵍ ⴰⴷ ⵓⵔ ⵉⴳⵉ ⵏ ⵜⵉⴷⵜ"},
		{"unknown code", "/t/NOSUCHLOT1?lang=zgh", 404, "ⴰⵏⴰⵎⴰⵍ ⵓⵔ ⵉⵜⵜⵓⵙⵙⵏ"},
		{"unknown serial", strings.Replace(canonical, "/21/U3", "/21/U99", 1) + "?lang=zgh", 404, "ⴰⵏⴰⵎⴰⵍ ⵓⵔ ⵉⵜⵜⵓⵙⵙⵏ"},
	} {
		status, page := getPage(t, e, tc.path, "")
		inTamazight(t, tc.what, status, page, tc.status)
		if !strings.Contains(page, tc.says) {
			t.Errorf("%s: the page does not say %q", tc.what, tc.says)
		}
		if share := tifinaghShare(visibleText(page)); share < 0.5 {
			t.Errorf("%s: only %.0f%% of the letters are Tifinagh:\n%s", tc.what, share*100, visibleText(page))
		}
	}
	// The authentic page: the product named by its kind (the catalogue has
	// no Tamazight name), the steps and certificate statuses in Tamazight,
	// the women counted with the exact-case plural.
	_, page := getPage(t, e, signed+"&lang=zgh", "")
	for _, want := range []string{"ⵣⵣⵄⴼⵔⴰⵏ ⵉⵇⵇⵓⵔⵏ", "ⴰⵙⵇⵇⵓⵔ", "ⵉⵚⵃⴰ", "1: ⵢⴰⵜ ⵜⵎⵖⴰⵔⵜ"} {
		if !strings.Contains(page, want) {
			t.Errorf("authentic page lacks %q", want)
		}
	}
	if strings.Contains(page, "Safran de Taliouine 1 g") {
		t.Error("the product is named in French on the Tamazight page")
	}
	// The same page in French: the marks are what the French catalogue now
	// says, so the check above could fail.
	if _, fr := getPage(t, e, signed+"&lang=fr", ""); !fallbackMark.MatchString(fr) {
		t.Fatal("the fallback marks are not shown: the check proves nothing")
	}
}

func TestHarvestPagesInTamazightHaveNoFallback(t *testing.T) {
	e := webtest.NewWith(t, webtest.Options{Bundle: fallbackShown(t)})
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	f.harvest(t, "2025-10-28", 400)
	b := newBrowser(t, e)
	b.loginAs("siroua@coop.ma")
	resp, page := b.get("/coop/SIROUA/harvests?lang=zgh") // remembered in the cookie from here on
	inTamazight(t, "harvest list and form", resp.StatusCode, page, 200)
	for _, want := range []string{"ⵜⴰⵎⴳⵔⴰ ⵜⴰⵎⴰⵢⵏⵓⵜ", "ⵣⵣⵄⴼⵔⴰⵏ ⴰⵎⴰⵢⵏⵓ", "ⵉⴷⵔⵉⵎⵏ ⵙ ⵓⴼⵓⵙ", "400 g"} {
		if !strings.Contains(page, want) {
			t.Errorf("harvest page lacks %q", want)
		}
	}
	resp, offline := b.get("/coop/SIROUA/harvests/offline")
	inTamazight(t, "offline harvest page", resp.StatusCode, offline, 200)
	if !strings.Contains(offline, `ⵜⵜⵔⴰⵊⴰⵏⵜ: {n}`) {
		t.Error("the offline script's messages are not in Tamazight")
	}
	csrf := csrfOf(t, page)
	valid := url.Values{"csrf": {csrf}, "parcel": {f.parcel}, "date": {"2025-11-02"}, "amount": {"450"}, "unit": {"g"}}
	for _, tc := range []struct {
		what, action string
		change       url.Values
		status       int
		says         string
	}{
		{"amount not a whole number", "/coop/SIROUA/harvests", url.Values{"amount": {"1.5"}}, 400, "ⵜⴰⵙⵎⴽⵜⵓⵍⵜ: \"1.5\" ⵓⵔ ⵉⴳⵉ ⵓⵟⵟⵓⵏ ⴰⵎⵙⵎⴰⴷ"},
		{"no amount", "/coop/SIROUA/harvests", url.Values{"amount": {""}}, 400, "ⵜⴰⵙⵎⴽⵜⵓⵍⵜ: ⵉⵇⵇⴰⵏ"},
		{"date in the future", "/coop/SIROUA/harvests", url.Values{"date": {"2999-01-01"}}, 400, "ⴰⵙⴰⴽⵓⴷ: ⵓⵔ ⵉⵍⴽⵉⵎ ⵖⵉⵍⴰ"},
		{"not a date", "/coop/SIROUA/harvests", url.Values{"date": {"demain"}}, 400, "ⴰⵙⴰⴽⵓⴷ: ⵉⵇⵇⴰⵏ ⴰⴷ ⵉⴳ ⴰⵙⴰⴽⵓⴷ"},
		{"crop the parcel does not grow", "/coop/SIROUA/harvests", url.Values{"crop": {"olive"}}, 400, "«ⵣⵣⵄⴼⵔⴰⵏ ⴰⵎⴰⵢⵏⵓ», ⵓⵔ ⵉⵜⵜⴰⴽⴽⴰ «ⴰⵣⵎⵎⵓⵔ»"},
		{"unknown crop", "/coop/SIROUA/harvests", url.Values{"crop": {"truffle"}}, 400, "ⵜⴰⵢⵔⵡⴰ: ⵉⵇⵇⴰⵏ ⴰⴷ ⵉⴳ ⵢⴰⵏ ⵙⴳ:"},
		{"unknown parcel", "/coop/SIROUA/harvests", url.Values{"parcel": {"prc_nope"}}, 404, "ⵓⵔ ⵉⴳⵉ ⵉⴳⵔ ⵏ ⵜⵄⴰⵡⴰⵏⵜ ⴰⴷ"},
		{"unknown unit", "/coop/SIROUA/harvests", url.Values{"unit": {"sacks"}}, 400, "ⵜⴰⴼⵔⴷⵉⵙⵜ ⵓⵔ ⵉⵜⵜⵓⵙⵙⵏⵏ"},
		{"advance not a number", "/coop/SIROUA/harvests", url.Values{"advance": {"beaucoup"}}, 400, "ⵓⵔ ⵉⴳⵉ ⵓⵟⵟⵓⵏ ⴰⵎⵙⵎⴰⴷ"},
		{"advance too large", "/coop/SIROUA/harvests", url.Values{"advance": {"99999999"}}, 400, "ⵙⴳ 1 ⴰⵔ 100 000 000"},
		{"beyond what any field gives", "/coop/SIROUA/harvests", url.Values{"amount": {"900"}, "unit": {"kg"}}, 422, "ⵜⴰⵍⵉⵙⵜ ⵜⴳⴰ"},
		{"correction without a harvest", "/coop/SIROUA/harvests/corrections", url.Values{"harvest": {""}}, 400, "ⵜⴰⵎⴳⵔⴰ: ⵉⵇⵇⴰⵏ"},
		{"correction without a reason", "/coop/SIROUA/harvests/corrections", url.Values{"harvest": {"hrv_x"}, "amount": {"300"}}, 400, "ⵜⴰⵎⵏⵜⵉⵍⵜ: ⵉⵏⵉ ⵎⴰⵅ"},
		{"correction not confirmed", "/coop/SIROUA/harvests/corrections", url.Values{"harvest": {"hrv_x"}, "amount": {"300"}, "reason": {"pesée"}}, 400, "ⵕⵛⵎ ⵜⴰⵙⵏⴷⵓⵇⵜ"},
		{"correction of no harvest", "/coop/SIROUA/harvests/corrections", url.Values{"harvest": {"hrv_x"}, "amount": {"300"}, "reason": {"pesée"}, "confirm": {"on"}}, 400, "ⵓⵔ ⵉⴳⵉ ⵜⴰⵎⴳⵔⴰ ⵏ ⵜⵄⴰⵡⴰⵏⵜ ⴰⴷ"},
		{"import of nothing", "/coop/SIROUA/harvests/import", url.Values{"csv": {""}}, 400, "ⴼⵔⵏ ⴰⴼⴰⵢⵍⵓ CSV"},
		{"import without the header", "/coop/SIROUA/harvests/import", url.Values{"csv": {"a,b\n1,2\n"}}, 400, "ⵜⴰⵣⵔⵉⴳⵜ ⵜⴰⵎⵣⵡⴰⵔⵓⵜ ⵉⵇⵇⴰⵏ ⴰⴷ ⵜⴳ"},
	} {
		form := url.Values{}
		for k, v := range valid {
			form[k] = v
		}
		for k, v := range tc.change {
			form[k] = v
		}
		resp, body := b.post(tc.action, form)
		inTamazight(t, tc.what, resp.StatusCode, body, tc.status)
		if got := errorOf(body); !strings.Contains(got, tc.says) {
			t.Errorf("%s: the refusal reads %q, want %q in it", tc.what, got, tc.says)
		}
	}
	// A harvest recorded: the flash, then the list, in Tamazight.
	resp, _ = b.post("/coop/SIROUA/harvests", valid)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a valid harvest: %d", resp.StatusCode)
	}
	resp, page = b.get(resp.Header.Get("Location"))
	inTamazight(t, "list after saving", resp.StatusCode, page, 200)
	if !strings.Contains(page, `class="flash" role="status">ⵉⵜⵜⵓⵙⵊⵊⵍ.<`) {
		t.Error("the saved flash is not in Tamazight")
	}
	// The offline page's outbox says its refusals in Tamazight too.
	bad := url.Values{"csrf": {csrfOf(t, offline)}, "parcel": {f.parcel}, "member": {f.member}, "crop": {"saffron"}, "date": {"2999-01-01"}, "amount": {"300"}, "unit": {"g"}}
	resp, out := b.outboxPost(bad, "zgh-0001")
	msg, _ := out["error"].(map[string]any)["message"].(string)
	if resp.StatusCode != 400 || msg != "ⴰⵙⴰⴽⵓⴷ: ⵓⵔ ⵉⵍⴽⵉⵎ ⵖⵉⵍⴰ" {
		t.Errorf("outbox refusal: %d %v", resp.StatusCode, out)
	}
}

// langOf is a page's language and direction.
var htmlLang = regexp.MustCompile(`<html lang="([^"]*)" dir="([^"]*)">`)

func langOf(page string) string {
	if m := htmlLang.FindStringSubmatch(page); m != nil {
		return m[1] + " " + m[2]
	}
	return "(no html element)"
}

func TestTamazightIsOfferedOnlyWhereItIsComplete(t *testing.T) {
	e := webtest.New(t)
	f := newTill(t, e)
	trace := traceURL(t, e, f.packed.Code, "")
	tamazightLink := `hreflang="zgh"`

	// Where the catalogue is complete: chosen by Accept-Language, offered in
	// the switch.
	_, page := getPage(t, e, trace, "zgh")
	if langOf(page) != "zgh ltr" || !strings.Contains(page, tamazightLink) || !strings.Contains(page, ">ⵜⴰⵎⴰⵣⵉⵖⵜ</a>") {
		t.Errorf("trace page with Accept-Language zgh: %s, switch offers zgh %v", langOf(page), strings.Contains(page, tamazightLink))
	}
	if _, fr := getPage(t, e, trace, "fr"); langOf(fr) != "fr ltr" || !strings.Contains(fr, tamazightLink) || strings.Contains(fr, `class="review-note"`) {
		t.Errorf("French trace page: %s; it must offer zgh and carry no review note", langOf(fr))
	}

	// The shop's till, the catalogue, the members' page: French, and no zgh
	// in the switch, whether zgh is asked by header, query or cookie.
	shop := userBrowser(t, e, "trd@shop.ma")
	manager := userBrowser(t, e, "siroua@coop.ma")
	for _, tc := range []struct {
		what string
		b    *browser
		path string
	}{
		{"till", shop, "/till/TAROUDANNT"},
		{"shop admin", shop, "/shop-admin/TAROUDANNT"},
		{"catalogue", newBrowser(t, e), "/shop/TAROUDANNT"},
		{"members", manager, "/coop/SIROUA"},
		{"lots", manager, "/coop/SIROUA/lots"},
	} {
		for _, how := range []string{"header", "query", "cookie"} {
			path := tc.path
			req, _ := http.NewRequest("GET", e.URL(path), nil)
			switch how {
			case "header":
				req.Header.Set("Accept-Language", "zgh")
			case "query":
				req.URL.RawQuery = "lang=zgh"
			case "cookie":
				req.AddCookie(&http.Cookie{Name: "terroir_lang", Value: "zgh"})
			}
			resp, err := tc.b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			buf := make([]byte, 32<<10)
			for {
				n, err := resp.Body.Read(buf)
				sb.Write(buf[:n])
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			body := sb.String()
			if resp.StatusCode != 200 || langOf(body) != "fr ltr" || strings.Contains(body, tamazightLink) || strings.Contains(body, "ⵜⴰⵎⴰⵣⵉⵖⵜ") {
				t.Errorf("%s with zgh by %s: %d, %s, offers zgh %v", tc.what, how, resp.StatusCode, langOf(body), strings.Contains(body, tamazightLink))
			}
		}
	}
	// Arabic asked after zgh: Arabic where zgh is not offered.
	_, till := getPage(t, e, "/shop/TAROUDANNT", "zgh, ar;q=0.8")
	if langOf(till) != "ar rtl" {
		t.Errorf("catalogue with zgh then ar: %s", langOf(till))
	}
	// The harvest pages offer it to the manager.
	_, harvests := manager.get("/coop/SIROUA/harvests")
	if !strings.Contains(harvests, tamazightLink) {
		t.Error("the harvest page does not offer zgh")
	}
	// A Tamazight choice made on a trace page is remembered there and
	// does not change the till.
	resp, _ := shop.get(trace + "&lang=zgh")
	resp.Body.Close()
	if _, p := shop.get(trace); langOf(p) != "zgh ltr" {
		t.Errorf("the remembered choice: trace page %s", langOf(p))
	}
	if _, p := shop.get("/till/TAROUDANNT"); langOf(p) != "fr ltr" {
		t.Errorf("the till after choosing zgh on a trace page: %s", langOf(p))
	}
}

// TestBrowserTracePageInTamazight opens a jar's trace page in Tamazight on a
// phone: Tifinagh letters drawn with a font of the system (Debian's DejaVu
// Sans has the Tifinagh block; no web font is sent), the page fits the
// screen, and a screenshot is kept.
func TestBrowserTracePageInTamazight(t *testing.T) {
	e := webtest.New(t)
	p := newPackedSaffron(t, e, false)
	u := e.URL(traceURL(t, e, p.packed.Code, "") + "&lang=zgh")
	_, page := getPage(t, e, traceURL(t, e, p.packed.Code, "")+"&lang=zgh", "")
	if len(page) > 100_000 {
		t.Errorf("the Tamazight trace page is %d bytes", len(page))
	}
	ctx := newChrome(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS(`#verdict h1`))); err != nil {
		t.Fatalf("open the trace page: %v", err)
	}
	// A missing glyph is drawn as a box of the fallback font, all of one
	// width: distinct Tifinagh letters of one font have different widths.
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const w = s => { const c = document.createElement('canvas').getContext('2d'); c.font = getComputedStyle(document.body).font; return c.measureText(s).width; };
		return [document.documentElement.lang, document.documentElement.dir,
			document.querySelector('#verdict h1').innerText, document.querySelector('.review-note').innerText,
			String(w('ⵎⵎⵎⵎⵎⵎⵎⵎ') !== w('ⵉⵉⵉⵉⵉⵉⵉⵉ')), String(document.fonts.check('16px sans-serif', 'ⵜⴰⵎⴰⵣⵉⵖⵜ'))];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if seen[0] != "zgh" || seen[1] != "ltr" || !strings.Contains(seen[2], "ⴰⴼⴰⵔⵉⵙ ⵏ ⵜⵉⴷⵜ") || tifinaghShare(seen[3]) < 0.9 {
		t.Errorf("lang %q dir %q verdict %q note %q", seen[0], seen[1], seen[2], seen[3])
	}
	if seen[4] != "true" {
		t.Error("Tifinagh letters are drawn all of one width: the system has no font for them (install fonts-dejavu-core)")
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "trace-zgh")
}
