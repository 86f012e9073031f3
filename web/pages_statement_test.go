package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestStatementPageClosesOnlyEndedMonthsAndShowsLaterEntries: the admin
// cannot close a month that has not ended (the page says from when, and a
// form sent anyway is refused in the page's language); once it has ended
// the admin closes it from its page; the closed month shows frozen, lists
// the sale dated in it but recorded after the close with the month that
// counts it, and that month's line says where it is dated from. The
// cooperative's manager reads the statement but cannot close it.
func TestStatementPageClosesOnlyEndedMonthsAndShowsLaterEntries(t *testing.T) {
	e := webtest.New(t)
	e.Clock.Set(midMarch)
	f := newPlatform(t, e)
	var tr struct {
		ID string `json:"id"`
	}
	if st := e.JSON("POST", "/api/v1/shops/EU-PLATFORM/transfers", f.eu, map[string]any{"to": "TAROUDANNT", "lines": []map[string]any{{"lot": f.packed.Code, "units": 4}}}, &tr); st != 201 {
		t.Fatalf("transfer: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/transfers/"+tr.ID+"/receive", f.trd, nil, nil); st != 200 {
		t.Fatalf("arrival: %d", st)
	}
	trd := f.trd
	sell := func() {
		t.Helper()
		if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", trd, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 1}}, "payment": "cash"}, nil); st != 201 {
			t.Fatalf("till sale: %d", st)
		}
	}
	sell()
	const march, april = "/coop/SIROUA/statements/2026-03", "/coop/SIROUA/statements/2026-04"
	admin := newBrowser(t, e)
	admin.login("/")

	// March has not ended: no button, the date it can be closed from.
	_, page := admin.get(march)
	if strings.Contains(page, `id="close-month"`) || !strings.Contains(page, `id="closable-from">Ce mois n&#39;est pas terminé : il pourra être clôturé à partir du 2026-04-01.`) {
		t.Fatalf("an unfinished month offers its close: %s", page)
	}
	// A close sent anyway (a stale form, by hand) is refused, said in the
	// page's language, and closes nothing; a future month too.
	for _, c := range []struct{ path, want string }{
		{march + "/close?lang=ar", "لم ينتهِ 2026-03 بعد؛ يمكن إغلاقه ابتداءً من 2026-04-01"},
		{march + "/close?lang=en", "2026-03 has not ended yet; it can be closed from 2026-04-01"},
		{march + "/close?lang=fr", "2026-03 n&#39;est pas encore terminé ; il pourra être clôturé à partir du 2026-04-01"},
		{"/coop/SIROUA/statements/2027-05/close", "2027-05 n&#39;est pas encore terminé"},
	} {
		resp, page := admin.post(c.path, url.Values{"csrf": {csrfOf(t, page)}})
		if resp.StatusCode != http.StatusConflict || !strings.Contains(page, `role="alert">Mois : `+c.want) && !strings.Contains(page, c.want) {
			t.Errorf("closing %s early: %d, want the refusal %q", c.path, resp.StatusCode, c.want)
		}
	}
	var st orders.Statement
	if e.JSON("GET", "/api/v1/cooperatives/SIROUA/statements/2026-03", e.AdminToken, nil, &st); st.Closed {
		t.Fatal("a refused close closed the month")
	}

	// The cooperative's manager: no form, and a close sent by hand is refused.
	manager := newBrowser(t, e)
	manager.loginAs("siroua@coop.ma")
	_, mpage := manager.get(march)
	if resp, _ := manager.get(march); resp.StatusCode != 200 || strings.Contains(mpage, `id="close"`) {
		t.Fatalf("the manager's statement page: %d, with a close section", resp.StatusCode)
	}

	// April: March has ended; the admin closes it from its page.
	e.Clock.Set(time.Date(2026, time.April, 1, 2, 0, 0, 0, time.UTC))
	admin.login("/") // the sessions of two weeks ago have expired
	manager.loginAs("siroua@coop.ma")
	trd = e.Token("trd@shop.ma", webtest.Password)
	_, mpage = manager.get(march)
	if resp, _ := manager.post(march+"/close", url.Values{"csrf": {csrfOf(t, mpage)}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the manager closes a month: %d", resp.StatusCode)
	}
	_, page = admin.get(march)
	if !strings.Contains(page, `id="close-month"`) {
		t.Fatalf("an ended month has no close button for the admin: %s", regexp.MustCompile(`(?s)<main.*</main>`).FindString(page))
	}
	resp, _ := admin.post(march+"/close", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != march || !flashed(resp) {
		t.Fatalf("close: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A till whose clock is behind sells a jar "in" March after the close.
	e.Clock.Advance(-3 * time.Hour)
	sell()
	e.Clock.Advance(3 * time.Hour)

	_, page = admin.get(march)
	if !strings.Contains(page, `id="frozen">Mois clôturé le 2026-04-01 02:00 UTC : ce relevé est figé.`) || strings.Contains(page, `id="close-month"`) {
		t.Fatalf("the closed month is not shown frozen: %s", page)
	}
	later := regexp.MustCompile(`<tr class="later">(.*?)</tr>`).FindAllStringSubmatch(page, -1)
	if len(later) != 1 || !strings.Contains(later[0][1], "Vente") || !strings.Contains(later[0][1], `href="`+april+`"`) || !strings.Contains(later[0][1], "<code>SAF-1G</code>") {
		t.Fatalf("later entries of the closed month: %q", later)
	}
	if got := regexp.MustCompile(`<tr><td class="date">`).FindAllString(page, -1); len(got) != 1 {
		t.Fatalf("the closed statement has %d lines, want the 1 it was closed with", len(got))
	}
	_, page = admin.get(april)
	if !strings.Contains(page, `<tr class="late">`) || !strings.Contains(page, `daté du mois clôturé <a href="`+march+`"><bdi>2026-03</bdi></a>`) {
		t.Fatalf("the month that counts the late sale does not say where it is dated: %s", page)
	}
	if _, page := admin.get(march + "?lang=ar"); !strings.Contains(page, "هذا الكشف مُجمَّد") || !strings.Contains(page, "سُجِّل بعد الإغلاق") {
		t.Fatal("the Arabic statement page is not frozen")
	}
	// Closing it again is refused by the page, in its language.
	resp, page = admin.post(march+"/close?lang=fr", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "2026-03 est déjà clôturé pour SIROUA") {
		t.Fatalf("closing twice: %d", resp.StatusCode)
	}
}
