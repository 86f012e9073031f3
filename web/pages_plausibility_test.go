package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/web/webtest"
)

// TestPlausibilityPageSpeaksThePageLanguage: the ranges are written in the
// page's language and numbers (no float noise such as 28.000000000000004),
// and the English sources are marked as English.
func TestPlausibilityPageSpeaksThePageLanguage(t *testing.T) {
	e := webtest.New(t)
	b := newBrowser(t, e)
	noise := regexp.MustCompile(`\d[.,]\d*(0{6,}|9{6,})\d`)
	for lang, want := range map[string][]string{
		"fr": {`<bdi dir="ltr">16–25 %</bdi> de la masse d&#39;entrée`, `<bdi dir="ltr">2–60</bdi> kg/ha par saison`, `<bdi dir="ltr">307–603</bdi> ml d&#39;huile par kg d&#39;entrée`, `<bdi dir="ltr">0,111–0,667</bdi> ml d&#39;huile`, `<bdi dir="ltr">0,5–300</bdi>`},
		"en": {`<bdi dir="ltr">16–25%</bdi> of the input mass`, `<bdi dir="ltr">307–603</bdi> ml of oil per kg of input`, `<bdi dir="ltr">0.5–300</bdi> kg/ha per season`},
		"ar": {`<bdi dir="ltr">16–25 %</bdi> من كتلة المدخلات`, `كغ/هكتار في الموسم`},
	} {
		_, page := b.get("/plausibility?lang=" + lang)
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page lacks %q: %s", lang, w, strings.Join(regexp.MustCompile(`<bdi dir="ltr">[^<]*</bdi>[^<]*`).FindAllString(page, -1), " / "))
			}
		}
		if m := noise.FindString(page); m != "" {
			t.Errorf("%s: a float's noise on the page: %q", lang, m)
		}
		if strings.Contains(page, "of the input mass") && lang != "en" || strings.Contains(page, "kg/ha of") {
			t.Errorf("%s: the English ranges are still on the page", lang)
		}
		if !strings.Contains(page, `<small lang="en" dir="ltr">Fresh stigmas are about`) {
			t.Errorf("%s: the sources are not marked as English", lang)
		}
	}
}
