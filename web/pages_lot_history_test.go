package web_test

import (
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/web/webtest"
)

// TestLotHistoryNamesItsSteps: a lot's history names the step that used
// it in the page's language ("Séchage", not "drying"), never a code of the
// program.
func TestLotHistoryNamesItsSteps(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	origin := f.lot(t, f.harvest(t, "2025-10-28", 400))
	if st, _ := f.dry(t, origin.Code, 400, 80); st != 201 {
		t.Fatalf("drying: %d", st)
	}
	b := newBrowser(t, e)
	b.login("/")
	for lang, want := range map[string]string{"fr": "Utilisé<br><small>Séchage</small>", "ar": "<small>التجفيف</small>", "en": "Used<br><small>Drying</small>"} {
		_, page := b.get("/lots/" + origin.Code + "?lang=" + lang)
		if !strings.Contains(page, want) || strings.Contains(page, "<small>drying</small>") {
			t.Errorf("the %s history of a dried lot does not name its step %q", lang, want)
		}
	}
}
