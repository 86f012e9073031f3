package web_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/webtest"
)

// money is an amount as a page in language lang shows it.
func money(t *testing.T, lang string, amount int64) string {
	t.Helper()
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return b.Locale(lang).Money(amount, "MAD")
}

// section is the text of the element with id in a page, up to the next
// section (enough to read one card's figures).
func section(page, id string) string {
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := page[i:]
	if j := strings.Index(rest, "</section>"); j >= 0 {
		rest = rest[:j]
	}
	return html.UnescapeString(rest)
}

func TestMembersPayPageAddsUpAndItsFormsAnswerInThePageLanguage(t *testing.T) {
	f := newMembersFixture(t)
	e := f.e
	b := newBrowser(t, e)
	b.loginAs("siroua@coop.ma")
	resp, _ := b.get("/coop/SIROUA/pay")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/coop/SIROUA/pay/2025-11" {
		t.Fatalf("pay now: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.get("/coop/SIROUA/pay/2025-11?lang=fr")
	members := section(page, "members")
	if resp.StatusCode != 200 || !strings.Contains(members, "Fatima Aït Brahim") || !strings.Contains(members, money(t, "fr", 42000)) {
		t.Fatalf("pay page: %d\n%s", resp.StatusCode, members)
	}
	// The totals add up to the cooperative's producer share, said plainly.
	if !strings.Contains(members, "Les gains des membres font "+money(t, "fr", 84000)+", la part producteur de la coopérative de "+money(t, "fr", 84000)) {
		t.Fatalf("reconciliation line missing:\n%s", members)
	}
	// A retention above 100 % is refused in French, what was typed kept,
	// nothing recorded.
	csrf := csrfOf(t, page)
	resp, page = b.post("/coop/SIROUA/pay/retention", url.Values{"csrf": {csrf}, "back": {"2025-11"}, "percent": {"150"}, "from": {"2025-11-01"}})
	if resp.StatusCode != 400 || !strings.Contains(page, "doit être un pourcentage de 0 à 100") || !strings.Contains(page, `value="150"`) {
		t.Fatalf("bad retention: %d\n%s", resp.StatusCode, section(page, "terms"))
	}
	var terms termsAnswer
	if e.JSON("GET", "/api/v1/cooperatives/SIROUA/member-terms", f.manager, nil, &terms); len(terms.Retention) != 0 {
		t.Fatalf("a refused retention was recorded: %+v", terms)
	}
	resp, _ = b.post("/coop/SIROUA/pay/retention", url.Values{"csrf": {csrf}, "back": {"2025-11"}, "percent": {"10"}, "from": {"2025-11-01"}})
	if resp.StatusCode != 303 || !flashed(resp) {
		t.Fatalf("retention: %d", resp.StatusCode)
	}
	_, page = b.get(resp.Header.Get("Location"))
	if m := section(page, "members"); !strings.Contains(m, money(t, "fr", -2200)) || !strings.Contains(m, money(t, "fr", 37800)) {
		t.Fatalf("after the retention, Fatima's advance is repaid 378 and she owes 22:\n%s", m)
	}
	// A zero rate is refused in Arabic.
	resp, page = b.post("/coop/SIROUA/pay/rates?lang=ar", url.Values{"csrf": {csrf}, "back": {"2025-11"}, "rate_month": {"2025-11"}, "currency": {"EUR"}, "rate": {"0"}})
	if resp.StatusCode != 400 || !strings.Contains(page, `dir="rtl"`) || !strings.Contains(page, "عشريًا موجبًا") {
		t.Fatalf("bad rate: %d\n%s", resp.StatusCode, section(page, "terms"))
	}
	resp, _ = b.post("/coop/SIROUA/pay/rates", url.Values{"csrf": {csrf}, "back": {"2025-11"}, "rate_month": {"2025-11"}, "currency": {"EUR"}, "rate": {"١٠٫٨٥"}})
	if resp.StatusCode != 303 {
		t.Fatalf("a rate typed in Arabic digits: %d", resp.StatusCode)
	}
	// Her printable slip: the advance at delivery and what repaid it.
	resp, page = b.get("/coop/SIROUA/pay/2025-11/members/" + f.fatima + "?lang=fr")
	if resp.StatusCode != 200 || !strings.Contains(section(page, "deliveries"), money(t, "fr", 40000)) ||
		!strings.Contains(section(page, "summary"), money(t, "fr", 37800)) || !strings.Contains(page, "Vous devez encore à la coopérative") {
		t.Fatalf("slip: %d\n%s", resp.StatusCode, page)
	}
	// The auditor reads the page without its forms, and may not send them.
	a := newBrowser(t, e)
	a.loginAs("audit@onssa.ma")
	resp, page = a.get("/coop/SIROUA/pay/2025-11")
	if resp.StatusCode != 200 || strings.Contains(page, "/pay/retention") || strings.Contains(page, "/payouts/new") {
		t.Fatalf("auditor's page: %d", resp.StatusCode)
	}
	if resp, _ := a.post("/coop/SIROUA/pay/retention", url.Values{"csrf": {csrfOf(t, page)}, "percent": {"5"}, "from": {"2025-11-02"}}); resp.StatusCode != 403 {
		t.Fatalf("auditor sets the retention: %d", resp.StatusCode)
	}
	if resp, _ := a.get("/coop/SIROUA/payouts/new"); resp.StatusCode != 403 {
		t.Fatalf("auditor opens the payout run: %d", resp.StatusCode)
	}
	if resp, _ := a.get("/coop/SIROUA/pay/2025-11.csv"); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d", resp.StatusCode)
	}
}

var keyInput = regexp.MustCompile(`name="key" value="([0-9a-f]+)"`)

func TestPayoutRunIsConfirmedThenRecordedOnceFromThePage(t *testing.T) {
	f := newMembersFixture(t)
	e := f.e
	b := newBrowser(t, e)
	b.loginAs("siroua@coop.ma")
	resp, page := b.get("/coop/SIROUA/payouts/new?lang=fr")
	confirm := section(page, "confirm")
	// Balances: Fatima 20 MAD (420 earned, 400 advanced), Aïcha 280, Brahim 140.
	if resp.StatusCode != 200 || !strings.Contains(confirm, "Aïcha Oubella") || !strings.Contains(confirm, money(t, "fr", 44000)) {
		t.Fatalf("confirmation: %d\n%s", resp.StatusCode, confirm)
	}
	m := keyInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no key in the confirmation form")
	}
	form := url.Values{"csrf": {csrfOf(t, page)}, "key": {m[1]}, "method": {"cash"}, "note": {"souk"}}
	bad := url.Values{"csrf": form["csrf"], "key": form["key"], "method": {"chèque"}}
	if resp, page := b.post("/coop/SIROUA/payouts", bad); resp.StatusCode != 400 || !strings.Contains(strings.ToLower(page), "méthode") {
		t.Fatalf("bad method: %d\n%s", resp.StatusCode, section(page, "confirm"))
	}
	for range 2 { // a second click of the same form pays nothing more
		resp, _ = b.post("/coop/SIROUA/payouts", form)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/coop/SIROUA/pay/2025-11" {
			t.Fatalf("payout run: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	var runs []orders.MemberPayoutRun
	if e.JSON("GET", "/api/v1/cooperatives/SIROUA/member-payouts", f.manager, nil, &runs); len(runs) != 1 || runs[0].Total.Amount != 44000 {
		t.Fatalf("runs: %+v", runs)
	}
	_, page = b.get("/coop/SIROUA/pay/2025-11")
	if !strings.Contains(section(page, "runs"), money(t, "fr", 44000)) {
		t.Fatalf("the run is not listed:\n%s", section(page, "runs"))
	}
	if _, page = b.get("/coop/SIROUA/payouts/new"); !strings.Contains(section(page, "confirm"), "Aucune membre n'a rien à recevoir") {
		t.Fatalf("after the run:\n%s", section(page, "confirm"))
	}
}

func TestImpactPageShowsTheWomenShareOfTheStatements(t *testing.T) {
	f := newMembersFixture(t)
	e := f.e
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/member-payouts", f.manager, map[string]any{"method": "transfer"}, nil); code != 201 {
		t.Fatalf("run: %d", code)
	}
	var rep orders.ImpactReport
	e.JSON("GET", "/api/v1/impact?season=2025", e.AdminToken, nil, &rep)
	b := newBrowser(t, e)
	b.loginAs(webtest.AdminEmail)
	resp, page := b.get("/impact?season=2025&lang=fr")
	fig := section(page, "figures")
	// Paid: 400 advance + 20 to Fatima, 280 to Aïcha (women), 140 to Brahim.
	if resp.StatusCode != 200 || !strings.Contains(fig, money(t, "fr", 84000)) || !strings.Contains(fig, money(t, "fr", 70000)) ||
		!strings.Contains(fig, "83.3 %") || !strings.Contains(page, "<svg") || rep.WomenPerMille != 833 {
		t.Fatalf("impact page: %d\n%s", resp.StatusCode, fig)
	}
	if !strings.Contains(section(page, "charts"), "<rect") {
		t.Fatal("no bars in the charts")
	}
	if resp, page := b.get("/impact?season=2025&lang=ar"); resp.StatusCode != 200 || !strings.Contains(page, `dir="rtl"`) || !strings.Contains(page, "تقرير الأثر") {
		t.Fatalf("arabic: %d", resp.StatusCode)
	}
	if resp, body := b.get("/impact.csv?season=2025&lang=fr"); resp.StatusCode != 200 || !strings.HasPrefix(body, "Saison,Coopérative,") {
		t.Fatalf("csv: %d %.80s", resp.StatusCode, body)
	}
	m := newBrowser(t, e)
	m.loginAs("siroua@coop.ma")
	if resp, _ := m.get("/impact?season=2025"); resp.StatusCode != 403 {
		t.Fatalf("a cooperative's manager reads the network's report: %d", resp.StatusCode)
	}
}

func TestHarvestFormRecordsAnAdvanceAtDelivery(t *testing.T) {
	f := newMembersFixture(t)
	e := f.e
	var parcels []struct {
		ID     string `json:"id"`
		Member string `json:"member"`
	}
	e.JSON("GET", "/api/v1/cooperatives/SIROUA/parcels", f.manager, nil, &parcels)
	parcel := ""
	for _, p := range parcels {
		if p.Member == f.aicha {
			parcel = p.ID
		}
	}
	b := newBrowser(t, e)
	b.loginAs("siroua@coop.ma")
	_, page := b.get("/coop/SIROUA/harvests?lang=fr")
	form := url.Values{"csrf": {csrfOf(t, page)}, "parcel": {parcel}, "date": {"2025-11-15"}, "amount": {"50"}, "unit": {"g"}, "advance_method": {"cash"}}
	form.Set("advance", "cent")
	if resp, page := b.post("/coop/SIROUA/harvests", form); resp.StatusCode != 400 || !strings.Contains(page, `value="cent"`) {
		t.Fatalf("an advance that is not a number: %d", resp.StatusCode)
	}
	form.Set("advance", "150")
	if resp, _ := b.post("/coop/SIROUA/harvests", form); resp.StatusCode != 303 {
		t.Fatalf("harvest with an advance: %d", resp.StatusCode)
	}
	var st orders.MemberStatements
	e.JSON("GET", "/api/v1/cooperatives/SIROUA/member-statements/2025-11", f.manager, nil, &st)
	if ai := memberLine(t, st, f.aicha); ai.Advances.Amount != 15000 || ai.AdvanceRepaid.Amount != 15000 || ai.Balance.Amount != 28000-15000 || ai.Deliveries != 2 {
		t.Fatalf("Aïcha's advance at her second delivery: %+v", ai)
	}
}
