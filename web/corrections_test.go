package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/webtest"
)

// correctionAnswer is the answer of both correction routes, and the error
// shape of their refusals.
type correctionAnswer struct {
	Correction struct {
		Lot   string `json:"lot"`
		Delta struct {
			Amount int64  `json:"amount"`
			Unit   string `json:"unit"`
		} `json:"delta"`
		From struct {
			Amount int64 `json:"amount"`
		} `json:"from"`
		To struct {
			Amount int64 `json:"amount"`
		} `json:"to"`
		Reason string `json:"reason"`
		By     string `json:"by"`
	} `json:"correction"`
	Lot struct {
		lotAnswer
		Corrected bool `json:"corrected"`
	} `json:"lot"`
	Harvest struct {
		Quantity struct {
			Amount int64 `json:"amount"`
		} `json:"quantity"`
	} `json:"harvest"`
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
		Details []struct {
			Lot      string `json:"lot"`
			Shop     string `json:"shop"`
			Quantity int64  `json:"quantity"`
		} `json:"details"`
	} `json:"error"`
}

func correction(amount int64, unit, reason string) map[string]any {
	return map[string]any{"quantity": map[string]any{"amount": amount, "unit": unit}, "reason": reason}
}

func verifyHolds(t *testing.T, e *webtest.Env) {
	t.Helper()
	found, n, err := e.Traceability.Verify(context.Background(), nil)
	if err != nil || len(found) != 0 || n == 0 {
		t.Fatalf("verify: %d lots, %+v, %v", n, found, err)
	}
}

// TestLotCorrectionThroughTheAPI is the case: a correction with a
// reason → 201 and an event of the lot; without a reason → 400; below what
// was packed → 409 naming the jars; another role or cooperative is
// refused; nothing refused changes the lot, and verify holds after.
func TestLotCorrectionThroughTheAPI(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 150, false) // 200 g dried, 150 g of it packed
	path := "/api/v1/lots/" + j.dried.Code + "/corrections"
	before := getLot(t, e, j.manager, j.dried.Code)

	var a correctionAnswer
	if st := e.JSON("POST", path, j.manager, correction(198, "g", "  "), &a); st != 400 || a.Error.Field != "reason" {
		t.Fatalf("no reason: %d %+v", st, a.Error)
	}
	a = correctionAnswer{}
	if st := e.JSON("POST", path, j.manager, map[string]any{"quantity": map[string]any{"amount": 198, "unit": "g"}}, &a); st != 400 || a.Error.Field != "reason" {
		t.Fatalf("reason missing: %d %+v", st, a.Error)
	}
	a = correctionAnswer{}
	if st := e.JSON("POST", path, j.manager, correction(100, "g", "weighed again"), &a); st != 409 ||
		!strings.Contains(a.Error.Message, j.packed.Code) || len(a.Error.Details) != 1 || a.Error.Details[0].Lot != j.packed.Code || a.Error.Details[0].Quantity != 150_000 {
		t.Fatalf("below the packed 150 g: %d %+v", st, a.Error)
	}
	a = correctionAnswer{}
	if st := e.JSON("POST", path, j.manager, correction(198, "ml", "typo"), &a); st != 400 || a.Error.Field != "quantity" {
		t.Fatalf("a volume for a mass: %d %+v", st, a.Error)
	}
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	if st := e.JSON("POST", path, auditor, correction(198, "g", "typo"), nil); st != 403 {
		t.Fatalf("auditor: %d, want 403", st)
	}
	e.Cooperative("TIZNIT", "argan")
	other := e.User("tiznit@coop.ma", access.CoopManager, "TIZNIT")
	if st := e.JSON("POST", path, other, correction(198, "g", "typo"), nil); st != 404 && st != 403 {
		t.Fatalf("another cooperative: %d, want 403 or 404", st)
	}
	if st := e.JSON("POST", path, "", correction(198, "g", "typo"), nil); st != 401 {
		t.Fatalf("anonymous: %d, want 401", st)
	}
	if got := getLot(t, e, j.manager, j.dried.Code); len(got.Events) != len(before.Events) || got.Available.Amount != before.Available.Amount {
		t.Fatalf("refused corrections changed the lot: %d events, %d available", len(got.Events), got.Available.Amount)
	}

	a = correctionAnswer{}
	if st := e.JSON("POST", path, j.manager, correction(198, "g", "the scale was not tared"), &a); st != 201 {
		t.Fatalf("correction: %d %+v", st, a.Error)
	}
	c := a.Correction
	if c.Lot != j.dried.Code || c.Delta.Amount != -2_000 || c.Delta.Unit != "mg" || c.From.Amount != 200_000 || c.To.Amount != 198_000 ||
		c.Reason != "the scale was not tared" || c.By != "siroua@coop.ma" {
		t.Fatalf("correction %+v", c)
	}
	if !a.Lot.Corrected || a.Lot.Quantity.Amount != 198_000 || a.Lot.Available.Amount != 48_000 {
		t.Fatalf("lot after: %+v", a.Lot)
	}
	got := getLot(t, e, j.manager, j.dried.Code)
	if last := got.Events[len(got.Events)-1]; last.Type != "corrected" || len(got.Events) != len(before.Events)+1 {
		t.Fatalf("events after: %+v", got.Events)
	}
	verifyHolds(t, e)
}

// TestHarvestCorrectionThroughTheAPI: a harvest is corrected with a reason
// and its lot follows; below what its lot already gave → 409; refused for
// another cooperative and for an auditor.
func TestHarvestCorrectionThroughTheAPI(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	h := f.harvest(t, "2025-10-28", 500)
	l := f.lot(t, h)
	if st, _ := f.dry(t, l.Code, 300, 60); st != 201 {
		t.Fatalf("drying: %d", st)
	}
	path := "/api/v1/cooperatives/SIROUA/harvests/" + h + "/corrections"
	var a correctionAnswer
	if st := e.JSON("POST", path, f.manager, correction(520, "g", ""), &a); st != 400 || a.Error.Field != "reason" {
		t.Fatalf("no reason: %d %+v", st, a.Error)
	}
	a = correctionAnswer{}
	if st := e.JSON("POST", path, f.manager, correction(250, "g", "weighed twice"), &a); st != 409 || len(a.Error.Details) != 1 || a.Error.Details[0].Quantity != 300_000 {
		t.Fatalf("below the 300 g dried: %d %+v", st, a.Error)
	}
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	if st := e.JSON("POST", path, auditor, correction(520, "g", "typo"), nil); st != 403 {
		t.Fatalf("auditor: %d, want 403", st)
	}
	e.Cooperative("TIZNIT", "argan")
	other := e.User("tiznit@coop.ma", access.CoopManager, "TIZNIT")
	if st := e.JSON("POST", path, other, correction(520, "g", "typo"), nil); st != 403 {
		t.Fatalf("another cooperative: %d, want 403", st)
	}
	if st := e.JSON("POST", "/api/v1/cooperatives/TIZNIT/harvests/"+h+"/corrections", other, correction(520, "g", "typo"), nil); st != 404 {
		t.Fatalf("another cooperative's harvest under its own code: %d, want 404", st)
	}
	a = correctionAnswer{}
	if st := e.JSON("POST", path, f.manager, correction(100_000, "kg", "typo"), &a); st != 422 || a.Error.Field != "quantity" {
		t.Fatalf("100 t on 1 000 m²: %d %+v", st, a.Error)
	}
	if got := getLot(t, e, f.manager, l.Code); got.Available.Amount != 200_000 || len(got.Events) != 2 {
		t.Fatalf("refused corrections changed the lot: %+v", got)
	}

	a = correctionAnswer{}
	if st := e.JSON("POST", path, f.manager, correction(520, "g", "the second basket was not weighed"), &a); st != 201 {
		t.Fatalf("correction: %d %+v", st, a.Error)
	}
	if a.Correction.From.Amount != 500_000 || a.Correction.To.Amount != 520_000 || a.Correction.Reason != "the second basket was not weighed" || a.Harvest.Quantity.Amount != 520_000 {
		t.Fatalf("answer %+v", a)
	}
	got := getLot(t, e, f.manager, l.Code)
	if last := got.Events[len(got.Events)-1]; last.Type != "corrected" || got.Available.Amount != 220_000 || got.Quantity.Amount != 520_000 {
		t.Fatalf("lot after the harvest's correction: %+v", got)
	}
	verifyHolds(t, e)
}

// TestLotCorrectionForm: the lot page offers its manager a correction form
// (reason and confirmation required), refuses in the page's language,
// keeps what was typed, and shows the correction in the lot's history; the
// public trace page of the jars marks the corrected step.
func TestLotCorrectionForm(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 150, false)
	e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	path := "/lots/" + j.dried.Code
	action := path + "/corrections"

	auditor := newBrowser(t, e)
	auditor.loginAs("audit@onssa.ma")
	_, page := auditor.get(path)
	if strings.Contains(page, `action="`+action+`"`) {
		t.Error("the auditor is offered the correction form")
	}
	if resp, _ := auditor.post(action, url.Values{"csrf": {csrfOf(t, page)}, "amount": {"198"}, "unit": {"g"}, "reason": {"typo"}, "confirm": {"on"}}); resp.StatusCode != 403 {
		t.Errorf("auditor corrects: %d, want 403", resp.StatusCode)
	}

	b := newBrowser(t, e)
	b.loginAs("siroua@coop.ma")
	_, page = b.get(path)
	if !strings.Contains(page, `action="`+action+`"`) || !strings.Contains(page, `name="confirm" required`) || !strings.Contains(page, "Corriger la quantité") {
		t.Fatal("the manager is not offered the correction form with its confirmation")
	}
	csrf := csrfOf(t, page)
	form := func(amount, reason, confirm string) url.Values {
		v := url.Values{"csrf": {csrf}, "amount": {amount}, "unit": {"g"}, "reason": {reason}}
		if confirm != "" {
			v.Set("confirm", confirm)
		}
		return v
	}
	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
		want   []string
	}{
		{"no reason", form("198", " ", "on"), 400, []string{"Motif : dites pourquoi la quantité est corrigée"}},
		{"not confirmed", form("198", "balance mal tarée", ""), 400, []string{"Confirmation : cochez la case"}},
		{"not a number", form("beaucoup", "balance mal tarée", "on"), 400, []string{"Quantité"}},
		{"below the jars", form("100", "balance mal tarée", "on"), 409, []string{"ne peut pas être corrigé à 100 g", "déjà utilisés par " + j.packed.Code}},
	} {
		resp, body := b.post(action, tt.form)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d (%q)", tt.name, resp.StatusCode, tt.status, errorOf(body))
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(errorOf(body), w) {
				t.Errorf("%s: error %q lacks %q", tt.name, errorOf(body), w)
			}
		}
		if tt.name != "no reason" && !strings.Contains(body, ">balance mal tarée</textarea>") {
			t.Errorf("%s: the reason typed is lost", tt.name)
		}
	}
	if l := getLot(t, e, j.manager, j.dried.Code); l.Available.Amount != 50_000 || l.Events[len(l.Events)-1].Type == "corrected" {
		t.Fatal("a refused correction was recorded")
	}

	resp, _ := b.post(action, form("198", "la balance n'était pas tarée", "on"))
	if resp.StatusCode != 303 || resp.Header.Get("Location") != path+"#history" || !flashed(resp) {
		t.Fatalf("correct: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = b.get(path)
	for _, w := range []string{`role="status">Correction enregistrée.<`, `<tr class="corrected">`, "la balance n&#39;était pas tarée", `<span dir="ltr">-2 g</span>`,
		`<span dir="ltr">198 g</span> <a href="#history" class="badge warn">Corrigé</a>`} {
		if !strings.Contains(page, w) {
			t.Errorf("the lot page lacks %s", w)
		}
	}
	if l := getLot(t, e, j.manager, j.dried.Code); l.Available.Amount != 48_000 || l.Quantity.Amount != 198_000 {
		t.Fatalf("lot after: %+v", l)
	}

	st, trace := getPage(t, e, traceURL(t, e, j.packed.Code, ""), "fr")
	if st != 200 || !strings.Contains(trace, `<span class="badge corrected">corrigé</span>`) || !strings.Contains(trace, `id="corrections"`) || !strings.Contains(trace, "200 g → 198 g") {
		t.Fatalf("the trace page does not mark the correction: %d", st)
	}
	var pub struct {
		Corrected   bool `json:"corrected"`
		Corrections []struct {
			Lot, From, To string
		} `json:"corrections"`
	}
	u, _ := url.Parse(traceURL(t, e, j.packed.Code, ""))
	if st := e.JSON("GET", "/api/v1/trace/"+j.packed.Code+"?s="+url.QueryEscape(u.Query().Get("s")), "", nil, &pub); st != 200 || !pub.Corrected ||
		len(pub.Corrections) != 1 || pub.Corrections[0].Lot != j.dried.Code || pub.Corrections[0].From != "200 g" || pub.Corrections[0].To != "198 g" {
		t.Fatalf("the public JSON does not carry the correction: %d %+v", st, pub)
	}
	// The auditor's page lists the correction with its reason and who made it.
	_, audit := auditor.get("/audit/SIROUA")
	i := strings.Index(audit, `id="corrections"`)
	if i < 0 || !strings.Contains(audit[i:], `<a href="/lots/`+j.dried.Code+`#history">`) || !strings.Contains(audit[i:], "200 g → 198 g") ||
		!strings.Contains(audit[i:], "la balance n&#39;était pas tarée") || !strings.Contains(audit[i:], "siroua@coop.ma") {
		t.Error("the audit page does not list the correction")
	}
	verifyHolds(t, e)
}

// TestHarvestCorrectionForm: the harvest list links each harvest to the
// correction form, which records a correction with its reason and shows
// it on the list.
func TestHarvestCorrectionForm(t *testing.T) {
	f := newRecords(t)
	b := f.browserOf(t, f.managerEmail)
	_, page := b.get("/coop/SIROUA/harvests")
	hv := f.lot.Origin[0].Harvest
	if !strings.Contains(page, `href="?correct=`+hv+`#correct"`) {
		t.Fatal("the harvest list has no correction link")
	}
	_, page = b.get("/coop/SIROUA/harvests?correct=" + hv)
	if !strings.Contains(page, `<details id="correct" open>`) || !strings.Contains(page, `<option value="`+hv+`" selected>`) {
		t.Fatal("the correction link does not open the form on its harvest")
	}
	csrf := csrfOf(t, page)
	resp, body := b.post("/coop/SIROUA/harvests/corrections", url.Values{"csrf": {csrf}, "harvest": {hv}, "amount": {"1100"}, "unit": {"g"}, "reason": {""}, "confirm": {"on"}})
	if resp.StatusCode != 400 || !strings.Contains(errorOf(body), "Motif") {
		t.Fatalf("no reason: %d %q", resp.StatusCode, errorOf(body))
	}
	other := f.browserOf(t, f.otherEmail)
	_, op := other.get("/coop/TIZNIT/harvests")
	if resp, _ := other.post("/coop/SIROUA/harvests/corrections", url.Values{"csrf": {csrfOf(t, op)}, "harvest": {hv}, "amount": {"1100"}, "unit": {"g"}, "reason": {"x"}, "confirm": {"on"}}); resp.StatusCode != 403 {
		t.Errorf("another cooperative's manager: %d, want 403", resp.StatusCode)
	}
	resp, _ = b.post("/coop/SIROUA/harvests/corrections", url.Values{"csrf": {csrf}, "harvest": {hv}, "amount": {"1100"}, "unit": {"g"}, "reason": {"un panier oublié"}, "confirm": {"on"}})
	if resp.StatusCode != 303 || !flashed(resp) {
		t.Fatalf("correct: %d", resp.StatusCode)
	}
	_, page = b.get("/coop/SIROUA/harvests")
	if !strings.Contains(page, `Corrigé <span dir="ltr">1 kg → 1,1 kg</span> · un panier oublié`) {
		t.Error("the harvest list does not show the correction")
	}
	if l := getLot(t, f.e, f.manager, f.lot.Code); l.Quantity.Amount != 1_100_000 || l.Events[len(l.Events)-1].Type != "corrected" {
		t.Fatalf("the harvest's lot did not follow: %+v", l)
	}
}

// TestCorrectionReachesACachedTracePage: a jar's trace page, cached by a
// first scan, shows a correction of the bulk lot it was packed from at the
// next scan.
func TestCorrectionReachesACachedTracePage(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 150, false)
	path := traceURL(t, e, j.packed.Code, "")
	if st, page := getPage(t, e, path, "fr"); st != 200 || strings.Contains(page, `id="corrections"`) {
		t.Fatalf("first scan: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/lots/"+j.dried.Code+"/corrections", j.manager, correction(198, "g", "the scale was not tared"), nil); st != 201 {
		t.Fatalf("correction: %d", st)
	}
	if st, page := getPage(t, e, path, "fr"); st != 200 || !strings.Contains(page, `id="corrections"`) || !strings.Contains(page, "200 g → 198 g") {
		t.Fatalf("the cached page does not show the correction: %d", st)
	}
}
