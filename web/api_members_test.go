package web_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// novemberDay is where the members' pay tests put the clock: in the
// saffron season 2025 (harvests early November, sales mid-month).
var novemberDay = time.Date(2025, time.November, 20, 10, 0, 0, 0, time.UTC)

// membersFixture is a saffron cooperative whose three members delivered
// 300 g (Fatima, paid a 400 MAD advance at delivery), 200 g (Aïcha) and
// 100 g (Brahim) into one lot, dried, packed into 1 g jars and sold at the
// Taroudannt till: ten jars at 120 MAD, a producer share of 70 %.
type membersFixture struct {
	e                       *webtest.Env
	manager, auditor, other string // tokens: its manager, an auditor in scope, another cooperative's manager
	shop                    string // the till's manager
	fatima, aicha, brahim   string
	month, packed           string
}

func newMembersFixture(t *testing.T) membersFixture {
	t.Helper()
	e := webtest.New(t)
	e.Clock.Set(novemberDay)
	e.AdminToken = e.Token(webtest.AdminEmail, webtest.Password)
	e.Cooperative("SIROUA", "saffron")
	e.Cooperative("TIZNIT", "argan")
	f := membersFixture{e: e, month: "2025-11",
		manager: e.User("siroua@coop.ma", access.CoopManager, "SIROUA"),
		other:   e.User("tiznit@coop.ma", access.CoopManager, "TIZNIT"),
		auditor: e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")}
	must := func(st, want int, what string, out any) {
		t.Helper()
		if st != want {
			t.Fatalf("%s: %d %+v", what, st, out)
		}
	}
	var harvests []string
	for _, m := range []struct {
		name, gender string
		grams        int64
		advance      int64
		id           *string
	}{{"Fatima Aït Brahim", "female", 300, 40000, &f.fatima}, {"Aïcha Oubella", "female", 200, 0, &f.aicha}, {"Brahim Idbella", "male", 100, 0, &f.brahim}} {
		var member, parcel, harvest map[string]any
		must(e.JSON("POST", "/api/v1/cooperatives/SIROUA/members", f.manager, map[string]string{"name": m.name, "gender": m.gender, "village": "Siroua"}, &member), 201, "member", member)
		*m.id = member["id"].(string)
		must(e.JSON("POST", "/api/v1/cooperatives/SIROUA/parcels", f.manager, map[string]any{
			"name": "Parcelle " + m.name, "member": *m.id, "commune": "Taliouine", "area_m2": 1000, "crop": "saffron",
			"location": map[string]any{"type": "Point", "coordinates": []float64{-7.92, 30.53}}}, &parcel), 201, "parcel", parcel)
		body := map[string]any{"parcel": parcel["id"], "member": *m.id, "date": "2025-11-02", "crop": "saffron",
			"quantity": map[string]any{"amount": m.grams, "unit": "g"}}
		if m.advance > 0 {
			body["advance"] = map[string]any{"amount": m.advance, "currency": "MAD", "method": "cash"}
		}
		must(e.JSON("POST", "/api/v1/cooperatives/SIROUA/harvests", f.manager, body, &harvest), 201, "harvest", harvest)
		harvests = append(harvests, harvest["id"].(string))
	}
	var lot lotAnswer
	must(e.JSON("POST", "/api/v1/cooperatives/SIROUA/lots", f.manager, map[string]any{"product_kind": "saffron", "harvests": harvests}, &lot), 201, "lot", lot)
	var dried struct {
		Outputs []lotAnswer `json:"outputs"`
	}
	must(e.JSON("POST", "/api/v1/cooperatives/SIROUA/transformations", f.manager, map[string]any{"process": "drying",
		"inputs":  []map[string]any{{"lot": lot.Code, "quantity": map[string]any{"amount": 600, "unit": "g"}}},
		"outputs": []map[string]any{{"product_kind": "saffron_dried", "quantity": map[string]any{"amount": 120, "unit": "g"}}}}, &dried), 201, "drying", dried)
	must(e.JSON("POST", "/api/v1/products", e.AdminToken, map[string]any{"sku": "SAF-1G",
		"names": map[string]string{"fr": "Safran de Taliouine 1 g", "en": "Taliouine saffron 1 g", "ar": "زعفران تالوين 1 غ"},
		"kind":  "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 1, "unit": "g"}}, nil), 201, "product", nil)
	var packed lotAnswer
	must(e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.manager, map[string]any{"lot": dried.Outputs[0].Code, "sku": "SAF-1G", "units": 100, "best_before": "2028-12-31"}, &packed), 201, "packing", packed)
	must(e.JSON("POST", "/api/v1/shops", e.AdminToken, map[string]string{"code": "TAROUDANNT", "name": "Boutique solidaire de Taroudannt", "city": "Taroudannt", "currency": "MAD", "kind": "boutique"}, nil), 201, "shop", nil)
	f.packed = packed.Code
	f.shop = e.User("trd@shop.ma", access.ShopManager, "TAROUDANNT")
	must(e.JSON("PUT", "/api/v1/products/SAF-1G/prices/TAROUDANNT", e.AdminToken, map[string]any{"amount": 12000, "currency": "MAD"}, nil), 200, "price", nil)
	must(e.JSON("POST", "/api/v1/shops/TAROUDANNT/receipts", e.AdminToken, map[string]any{"lot": packed.Code, "units": 30}, nil), 201, "receipt", nil)
	var sale map[string]any
	must(e.JSON("POST", "/api/v1/shops/TAROUDANNT/sales", f.shop, map[string]any{"lines": []map[string]any{{"sku": "SAF-1G", "units": 10}}, "payment": "cash"}, &sale), 201, "sale", sale)
	return f
}

// line is a member's line of statements, or fails.
func memberLine(t *testing.T, st orders.MemberStatements, member string) orders.MemberStatement {
	t.Helper()
	for _, m := range st.Members {
		if m.Member == member {
			return m
		}
	}
	t.Fatalf("member %s is not in the statements %+v", member, st.Members)
	return orders.MemberStatement{}
}

func TestMemberStatementShowsAdvanceRepaidFromFirstEarnings(t *testing.T) {
	f := newMembersFixture(t)
	e := f.e
	var apiErr webtest.APIError
	// The general assembly keeps 10 % from the first of the month.
	if st := e.JSON("PUT", "/api/v1/cooperatives/SIROUA/retention", f.manager, map[string]any{"percent": 10, "from": "2025-11-01"}, &apiErr); st != 200 {
		t.Fatalf("retention: %d %+v", st, apiErr)
	}
	var st orders.MemberStatements
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/member-statements/"+f.month, f.manager, nil, &st); code != 200 {
		t.Fatalf("statements: %d", code)
	}
	// 10 jars × 120 MAD × 70 % = 840 MAD, 10 % kept, the rest 3:2:1.
	if st.Currency != "MAD" || st.ProducerShare.Amount != 84000 || st.Retention.Amount != 8400 || len(st.Members) != 3 {
		t.Fatalf("statements: %+v", st)
	}
	var earned, kept int64
	for _, m := range st.Members {
		earned += m.Earnings.Amount
		kept += m.Retention.Amount
		if m.Balance.Amount != m.OpeningBalance.Amount+m.Earnings.Amount-m.Retention.Amount-m.Advances.Amount-m.Payouts.Amount {
			t.Errorf("%s's balance does not reconcile: %+v", m.Name, m)
		}
	}
	if earned+st.Unassigned.Amount != st.ProducerShare.Amount || kept != st.Retention.Amount {
		t.Fatalf("members' earnings %d + unassigned %d ≠ producer share %d, or retention %d ≠ %d", earned, st.Unassigned.Amount, st.ProducerShare.Amount, kept, st.Retention.Amount)
	}
	fa, ai, br := memberLine(t, st, f.fatima), memberLine(t, st, f.aicha), memberLine(t, st, f.brahim)
	if fa.Earnings.Amount != 42000 || ai.Earnings.Amount != 28000 || br.Earnings.Amount != 14000 || fa.Grams.Amount != 300_000 {
		t.Fatalf("earnings not in proportion to 300, 200, 100 g: %+v %+v %+v", fa, ai, br)
	}
	// Her advance of 400 MAD is repaid first from her 378 MAD: 22 MAD are
	// still owed, and her balance says so.
	if fa.Advances.Amount != 40000 || fa.AdvanceRepaid.Amount != 37800 || fa.AdvanceLeft.Amount != 2200 || fa.Balance.Amount != -2200 {
		t.Fatalf("Fatima's advance: %+v", fa)
	}
	if ai.Balance.Amount != 25200 || br.Balance.Amount != 12600 {
		t.Fatalf("balances: %+v %+v", ai, br)
	}
	// The same by ?month=, her slip with the delivery's advance, the CSV.
	var same orders.MemberStatements
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/member-statements?month="+f.month, f.auditor, nil, &same); code != 200 || same.ProducerShare != st.ProducerShare {
		t.Fatalf("?month=: %d %+v", code, same)
	}
	var slip orders.MemberSlip
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/members/"+f.fatima+"/statements/"+f.month, f.manager, nil, &slip); code != 200 ||
		len(slip.Deliveries) != 1 || slip.Deliveries[0].Advance == nil || slip.Deliveries[0].Advance.Amount != 40000 || len(slip.Entries) != 1 ||
		slip.Entries[0].Net != 37800 || slip.Statement.AdvanceRepaid.Amount != 37800 {
		t.Fatalf("slip: %d %+v", code, slip)
	}
	for _, h := range [][2]string{{"?format=csv", ""}, {"", "text/csv"}} {
		resp, body := e.Do("GET", "/api/v1/cooperatives/SIROUA/member-statements/"+f.month+h[0], f.auditor, nil, "Accept", h[1])
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || err != nil || len(rows) != 5 {
			t.Fatalf("csv %v: %d %v\n%s", h, resp.StatusCode, err, body)
		}
		if rows[0][2] != "member" || !strings.Contains(string(body), "Fatima Aït Brahim,female,300.000,1,") || rows[4][10] != "840.00" {
			t.Fatalf("csv rows: %q", rows)
		}
	}
	var season struct {
		Season    int                    `json:"season"`
		Statement orders.MemberStatement `json:"statement"`
	}
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/members/"+f.fatima+"/seasons/2025", f.manager, nil, &season); code != 200 || season.Statement.AdvanceRepaid.Amount != 37800 {
		t.Fatalf("season: %d %+v", code, season)
	}
	// Who may read: the manager, the auditor in scope, the admin; not
	// another cooperative's manager nor a shop.
	for who, token := range map[string]string{"another cooperative": f.other, "a shop": f.shop} {
		if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/member-statements/"+f.month, token, nil, nil); code != 403 {
			t.Errorf("%s reads the statements: %d", who, code)
		}
	}
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/members/"+f.fatima+"/statements/"+f.month, f.other, nil, nil); code != 403 {
		t.Errorf("another cooperative reads a slip: %d", code)
	}
	// Bad months and members.
	for path, field := range map[string]string{
		"/member-statements/2025-13": "month", "/member-statements/2099-01": "month", "/member-statements?month=2025-1": "month",
		"/member-statements?season=abc": "season", "/members/" + f.fatima + "/statements/11-2025": "month", "/members/" + f.fatima + "/seasons/1900": "season",
	} {
		if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA"+path, f.manager, nil, &apiErr); code != 400 || apiErr.Error.Field != field {
			t.Errorf("%s: %d %+v, want 400 on %s", path, code, apiErr, field)
		}
	}
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/members/mbr_nobody/statements/"+f.month, f.manager, nil, nil); code != 404 {
		t.Errorf("someone who is not a member: %d", code)
	}
}

// termsAnswer is GET …/member-terms (rates as their decimal text).
type termsAnswer struct {
	Retention []orders.RetentionRule                   `json:"retention"`
	Rates     []struct{ Month, Currency, Rate string } `json:"rates"`
}

func TestLotSharesThroughTheAPI(t *testing.T) {
	f := newMembersFixture(t)
	e := f.e
	var sh traceability.LotShares
	if code := e.JSON("GET", "/api/v1/lots/"+f.packed+"/shares", f.auditor, nil, &sh); code != 200 || sh.Members != 3 || sh.Women != 2 || len(sh.Shares) != 3 {
		t.Fatalf("shares: %d %+v", code, sh)
	}
	per := map[string]int64{}
	for _, s := range sh.Shares {
		per[s.Member] = s.PerMille
	}
	if per[f.fatima] != 500 || per[f.aicha] != 333 || per[f.brahim] != 167 {
		t.Fatalf("per mille of the jars: %v", per)
	}
	for who, token := range map[string]string{"another cooperative": f.other, "a shop": f.shop, "anyone": ""} {
		if code := e.JSON("GET", "/api/v1/lots/"+f.packed+"/shares", token, nil, nil); code != 404 && code != 401 && code != 403 {
			t.Errorf("%s reads the members behind a lot: %d", who, code)
		}
	}
}

func TestRetentionAndRatesRefuseBadInputAndChangeNothing(t *testing.T) {
	f := newMembersFixture(t)
	e := f.e
	var apiErr webtest.APIError
	terms := func() termsAnswer {
		t.Helper()
		var mt termsAnswer
		if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/member-terms", f.auditor, nil, &mt); code != 200 {
			t.Fatalf("terms: %d", code)
		}
		return mt
	}
	for _, c := range []struct {
		method, path string
		body         any
		field        string
	}{
		{"PUT", "/retention", map[string]any{"percent": 101, "from": "2025-11-01"}, "percent"},
		{"PUT", "/retention", map[string]any{"percent": -1, "from": "2025-11-01"}, "percent"},
		{"PUT", "/retention", map[string]any{"percent": "10.555", "from": "2025-11-01"}, "percent"},
		{"PUT", "/retention", map[string]any{"percent": true, "from": "2025-11-01"}, "percent"},
		{"POST", "/retention", map[string]any{"from": "2025-11-01"}, "percent"},
		{"PUT", "/retention", map[string]any{"percent": 10, "from": "01/11/2025"}, "from"},
		{"PUT", "/retention", map[string]any{"percent": 10, "from": "2025-11-01", "extra": 1}, "extra"},
		{"POST", "/rates", map[string]any{"month": "2025-11", "currency": "EUR", "rate": 0}, "rate"},
		{"POST", "/rates", map[string]any{"month": "2025-11", "currency": "EUR", "rate": "-10.8"}, "rate"},
		{"POST", "/rates", map[string]any{"month": "2025-11", "currency": "EUR", "rate": "dix"}, "rate"},
		{"POST", "/rates", map[string]any{"month": "2025-13", "currency": "EUR", "rate": "10.85"}, "month"},
		{"POST", "/rates", map[string]any{"month": "2025-11", "currency": "MAD", "rate": "10.85"}, "currency"},
		{"PUT", "/rates/nov", map[string]any{"currency": "EUR", "rate": "10.85"}, "month"},
		{"PUT", "/rates/2025-11", map[string]any{"month": "2025-10", "currency": "EUR", "rate": "10.85"}, "month"},
	} {
		if code := e.JSON(c.method, "/api/v1/cooperatives/SIROUA"+c.path, f.manager, c.body, &apiErr); code != 400 || apiErr.Error.Field != c.field {
			t.Errorf("%s %s %v: %d %+v, want 400 on %s", c.method, c.path, c.body, code, apiErr, c.field)
		}
	}
	if mt := terms(); len(mt.Retention) != 0 || len(mt.Rates) != 0 {
		t.Fatalf("refused terms were written: %+v", mt)
	}
	// Only the cooperative's manager and the admin record them.
	for who, token := range map[string]string{"the auditor": f.auditor, "another cooperative": f.other, "a shop": f.shop} {
		if code := e.JSON("PUT", "/api/v1/cooperatives/SIROUA/retention", token, map[string]any{"percent": "5", "from": "2025-11-01"}, nil); code != 403 {
			t.Errorf("%s sets the retention: %d", who, code)
		}
		if code := e.JSON("PUT", "/api/v1/cooperatives/SIROUA/rates/2025-11", token, map[string]any{"currency": "EUR", "rate": "10.85"}, nil); code != 403 {
			t.Errorf("%s sets the rate: %d", who, code)
		}
	}
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/retention", e.AdminToken, map[string]any{"percent": "7.5", "from": "2025-11-01"}, nil); code != 200 {
		t.Fatalf("admin retention: %d", code)
	}
	if code := e.JSON("PUT", "/api/v1/cooperatives/SIROUA/rates/2025-11", f.manager, map[string]any{"currency": "EUR", "rate": "10.8345"}, nil); code != 200 {
		t.Fatalf("rate: %d", code)
	}
	// A month's rate is recorded once: the same again is fine, another is a 409.
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/rates", f.manager, map[string]any{"month": "2025-11", "currency": "EUR", "rate": 10.8345}, nil); code != 200 {
		t.Fatalf("the same rate again: %d", code)
	}
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/rates", f.manager, map[string]any{"month": "2025-11", "currency": "EUR", "rate": "11"}, &apiErr); code != 409 || apiErr.Error.Field != "rate" {
		t.Fatalf("another rate: %d %+v", code, apiErr)
	}
	mt := terms()
	if len(mt.Retention) != 1 || mt.Retention[0].BasisPoints != 750 || len(mt.Rates) != 1 || mt.Rates[0].Rate != "10.8345" {
		t.Fatalf("terms: %+v", mt)
	}
}

// post sends a JSON body from any goroutine (no test helper that fails).
func post(url, token, key string, body any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", url, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes(), err
}

func TestPayoutRunStartedTwiceConcurrentlyPaysOnce(t *testing.T) {
	f := newMembersFixture(t)
	e := f.e
	var apiErr webtest.APIError
	for _, c := range []struct {
		body  any
		field string
	}{
		{map[string]any{"method": "cheque"}, "method"},
		{map[string]any{"method": "cash", "lines": []map[string]any{{"member": f.aicha, "amount": map[string]any{"amount": 0, "currency": "MAD"}}}}, "lines[0].amount.amount"},
		{map[string]any{"method": "cash", "lines": []map[string]any{{"member": f.aicha, "amount": map[string]any{"amount": 100, "currency": "EUR"}}}}, "lines[0].amount.currency"},
	} {
		if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/member-payouts", f.manager, c.body, &apiErr); code != 400 || apiErr.Error.Field != c.field {
			t.Errorf("%v: %d %+v, want 400 on %s", c.body, code, apiErr, c.field)
		}
	}
	// More than her balance (Fatima's is what is left of her earnings
	// once her advance is repaid: 420 − 400 MAD).
	for _, m := range []struct {
		member string
		amount int64
	}{{f.aicha, 28001}, {f.fatima, 2001}} {
		body := map[string]any{"method": "cash", "lines": []map[string]any{{"member": m.member, "amount": map[string]any{"amount": m.amount, "currency": "MAD"}}}}
		if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/member-payouts", f.manager, body, &apiErr); code != 409 || apiErr.Error.Field != "lines[0].amount" {
			t.Errorf("payout above the balance: %d %+v", code, apiErr)
		}
	}
	for who, token := range map[string]string{"the auditor": f.auditor, "another cooperative": f.other, "a shop": f.shop} {
		if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/member-payouts", token, map[string]any{"method": "cash"}, nil); code != 403 {
			t.Errorf("%s starts a payout run: %d", who, code)
		}
	}
	if e.Count("member_payout_runs") != 0 {
		t.Fatal("a refused run was recorded")
	}
	// Two runs started at once, each under its own key: one pays, the other
	// finds nothing left to pay.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	bodies := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], bodies[i], errs[i] = post(e.URL("/api/v1/cooperatives/SIROUA/member-payouts"), f.manager, []string{"run-a", "run-b"}[i], map[string]any{"method": "cash", "note": "souk du lundi"})
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	won := 0
	if codes[1] == 201 {
		won = 1
	}
	if codes[won] != 201 || codes[1-won] != 409 {
		t.Fatalf("two runs at once: %v\n%s\n%s", codes, bodies[0], bodies[1])
	}
	var run orders.MemberPayoutRun
	if err := json.Unmarshal(bodies[won], &run); err != nil {
		t.Fatal(err)
	}
	if run.Total.Amount != 28000+14000+2000 || len(run.Lines) != 3 {
		t.Fatalf("the run pays every positive balance: %+v", run)
	}
	// The same key and body again: the same run, nothing paid twice.
	var again orders.MemberPayoutRun
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/member-payouts", f.manager, map[string]any{"method": "cash", "note": "souk du lundi"}, &again); code != 409 {
		t.Fatalf("a third run without a key: %d", code)
	}
	code, body, err := post(e.URL("/api/v1/cooperatives/SIROUA/member-payouts"), f.manager, []string{"run-a", "run-b"}[won], map[string]any{"method": "cash", "note": "souk du lundi"})
	if err != nil || code != 201 || json.Unmarshal(body, &again) != nil || again.ID != run.ID {
		t.Fatalf("the same key again: %d %s %v", code, body, err)
	}
	var runs []orders.MemberPayoutRun
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/member-payouts", f.auditor, nil, &runs); code != 200 || len(runs) != 1 || runs[0].ID != run.ID {
		t.Fatalf("runs: %d %+v", code, runs)
	}
	var st orders.MemberStatements
	e.JSON("GET", "/api/v1/cooperatives/SIROUA/member-statements/"+f.month, f.manager, nil, &st)
	if ai, br := memberLine(t, st, f.aicha), memberLine(t, st, f.brahim); ai.Payouts.Amount != 28000 || ai.Balance.Amount != 0 || br.Balance.Amount != 0 {
		t.Fatalf("balances after the run: %+v %+v", ai, br)
	}
	// The retention cannot now start on a day members were paid.
	if code := e.JSON("PUT", "/api/v1/cooperatives/SIROUA/retention", f.manager, map[string]any{"percent": 10, "from": "2025-11-01"}, &apiErr); code != 409 || apiErr.Error.Field != "from" {
		t.Fatalf("retention before a payout: %d %+v", code, apiErr)
	}
}

func TestImpactReportWomenShareMatchesTheStatements(t *testing.T) {
	f := newMembersFixture(t)
	e := f.e
	if code := e.JSON("POST", "/api/v1/cooperatives/SIROUA/member-payouts", f.manager, map[string]any{"method": "transfer"}, nil); code != 201 {
		t.Fatalf("run: %d", code)
	}
	var season orders.MemberStatements
	if code := e.JSON("GET", "/api/v1/cooperatives/SIROUA/member-statements?season=2025", f.auditor, nil, &season); code != 200 || season.Season != 2025 {
		t.Fatalf("season statements: %d %+v", code, season)
	}
	var paid, women int64
	var active, activeWomen int
	for _, m := range season.Members {
		p := m.Advances.Amount + m.Payouts.Amount
		paid += p
		if m.Gender == "female" {
			women += p
		}
		if m.Deliveries > 0 {
			active++
			if m.Gender == "female" {
				activeWomen++
			}
		}
	}
	// An advance of 400 MAD to Fatima, then payouts of 20 MAD to her, 280 MAD
	// to Aïcha and 140 MAD to Brahim.
	if paid != 40000+2000+28000+14000 || women != 40000+2000+28000 {
		t.Fatalf("season paid %d, to women %d", paid, women)
	}
	for _, q := range []string{"", "&cooperative=SIROUA"} {
		var rep orders.ImpactReport
		if code := e.JSON("GET", "/api/v1/impact?season=2025"+q, f.auditor, nil, &rep); code != 200 {
			t.Fatalf("impact%s: %d", q, code)
		}
		if rep.PaidToMembers.Amount != paid || rep.PaidToWomen.Amount != women || rep.WomenPerMille != women*1000/paid ||
			rep.ActiveMembers.Total != active || rep.ActiveMembers.Women != activeWomen || rep.Grams.Total.Amount != 600_000 {
			t.Fatalf("impact%s does not match the statements: %+v", q, rep.ImpactFigures)
		}
	}
	resp, body := e.Do("GET", "/api/v1/impact?season=2025&format=csv", e.AdminToken, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "2025,network,3,2,1,600.000,500.000,") {
		t.Fatalf("impact csv: %d\n%s", resp.StatusCode, body)
	}
	var apiErr webtest.APIError
	for who, token := range map[string]string{"a cooperative's manager": f.manager, "a shop": f.shop} {
		if code := e.JSON("GET", "/api/v1/impact?season=2025", token, nil, nil); code != 403 {
			t.Errorf("%s reads the impact report: %d", who, code)
		}
	}
	if code := e.JSON("GET", "/api/v1/impact?season=2025&cooperative=TIZNIT", f.auditor, nil, nil); code != 403 {
		t.Errorf("an auditor reads a cooperative outside its scope: %d", code)
	}
	for _, q := range []string{"", "?season=next", "?season=2030"} {
		if code := e.JSON("GET", "/api/v1/impact"+q, e.AdminToken, nil, &apiErr); code != 400 || apiErr.Error.Field != "season" {
			t.Errorf("impact%s: %d %+v", q, code, apiErr)
		}
	}
}
