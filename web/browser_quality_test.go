package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/web/webtest"
)

// TestBrowserQualityPagesOnAPhone walks the pages of issue 18 on a phone,
// in French and then in Arabic (right to left): the lot page with its
// laboratory result and form, the audit page's evidence section, the
// cooperative's consignments with the declaration form, a consignment, and
// the public trace page showing the category. None scrolls sideways.
func TestBrowserQualityPagesOnAPhone(t *testing.T) {
	e := webtest.New(t)
	a := newCoop(t, e, "SIROUA", "saffron", 1000)
	if st := e.JSON("POST", "/api/v1/shops", e.AdminToken, map[string]string{"code": "EU-PLATFORM", "name": "Plateforme européenne", "city": "France", "currency": "EUR", "kind": "platform"}, nil); st != 201 {
		t.Fatalf("platform: %d", st)
	}
	organic := certify(t, e, "SIROUA", "EU organic", a.parcel)
	_, dried := a.dry(t, a.lot(t, a.harvest(t, "2026-11-02", 600)).Code, 300, 60)
	lab := categoryI()
	lab["sample_date"], lab["report_date"] = "2026-11-20", "2026-11-28"
	if st, out := postLabResult(t, e, a.manager, dried.Code, lab, "rapport.pdf", labPDF(t)); st != 201 {
		t.Fatalf("lab result: %d %v", st, out)
	}
	var cs consignmentAnswer
	if st := e.JSON("POST", "/api/v1/consignments", a.manager, consignmentBody(organic, map[string]any{"lot": dried.Code,
		"quantity": map[string]any{"amount": 20, "unit": "g"}, "packages": 1, "gross_mass": map[string]any{"amount": 150, "unit": "g"}}), &cs); st != 201 {
		t.Fatalf("consignment: %d", st)
	}
	ctx := newChrome(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL("/login")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "siroua@coop.ma"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.Password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.subnav`)),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	pages := []struct{ name, path, wait, want string }{
		{"lot", "/lots/" + dried.Code, `#quality`, "Catégorie I (ISO 3632)"},
		{"audit", "/audit/SIROUA", `#evidence`, "Dossier de preuves"},
		{"consignments", "/coop/SIROUA/consignments", `#consignments`, cs.ID},
		{"consignment", "/coop/SIROUA/consignments/" + cs.ID, `#consignment`, "Terroirs Solidaires SAS"},
		{"trace", "/t/" + dried.Code, `#category`, "Catégorie I (ISO 3632)"},
	}
	wantAr := map[string]string{"lot": "الفئة \u2066I (ISO 3632)\u2069", "audit": "ملف الإثباتات", "consignments": "الشحنات إلى الاتحاد الأوروبي",
		"consignment": "Terroirs Solidaires SAS", "trace": "الفئة \u2066I (ISO 3632)\u2069"}
	for _, lang := range []string{"fr", "ar"} {
		for _, p := range pages {
			want := p.want
			if lang == "ar" {
				want = wantAr[p.name]
			}
			err := chromedp.Do(ctx,
				chromedp.Navigate(e.URL(p.path+"?lang="+lang)),
				chromedp.WaitVisible(chromedp.CSS(p.wait)),
			)
			if err != nil {
				t.Fatalf("%s %s: %v", lang, p.name, err)
			}
			// The forms folded in <details> are opened, as a manager would.
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("details").forEach(d => d.open = true), 0`)); err != nil {
				t.Fatal(err)
			}
			text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
			if err != nil {
				t.Fatal(err)
			}
			dir, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dir`))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, want) {
				t.Errorf("%s %s page does not say %q", lang, p.name, want)
			}
			if wantDir := map[string]string{"fr": "ltr", "ar": "rtl"}[lang]; dir != wantDir {
				t.Errorf("%s %s page dir %q", lang, p.name, dir)
			}
			fitsThePhone(t, ctx)
			screenshot(t, ctx, p.name+"-"+lang)
		}
	}
}
