package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/webtest"
)

// balanceAnswer is the API's mass balance, its fields as API.md names them
// and the packed units' fields of issue 10.
type balanceAnswer struct {
	Rows []struct {
		ProductKind        string   `json:"product_kind"`
		Unit               string   `json:"unit"`
		Harvested          int64    `json:"harvested"`
		Produced           int64    `json:"produced"`
		Transformed        int64    `json:"transformed"`
		Packed             int64    `json:"packed"`
		Shipped            int64    `json:"shipped"`
		OnHand             int64    `json:"on_hand"`
		Losses             int64    `json:"losses"`
		YieldPercent       string   `json:"yield_percent"`
		TransformationLoss int64    `json:"transformation_loss"`
		Unexplained        int64    `json:"unexplained"`
		PackedUnits        int64    `json:"packed_units"`
		ShippedUnits       int64    `json:"shipped_units"`
		OnHandUnits        int64    `json:"on_hand_units"`
		InconsistentLots   []string `json:"inconsistent_lots"`
	} `json:"rows"`
}

// TestMassBalanceInOneUnitThroughTheWeb is the Done-when: harvest
// 500 g, dry it to 100 g, pack 50 jars of 1 g, ship 30 to a shop; the dried
// saffron row says, in milligrams, produced 100 g, packed 50 g, on hand
// 50 g, losses 0 — in the API, the audit page and its CSV.
func TestMassBalanceInOneUnitThroughTheWeb(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	fresh := f.lot(t, f.harvest(t, "2025-10-28", 500))
	st, dried := f.dry(t, fresh.Code, 500, 100)
	if st != 201 {
		t.Fatalf("drying: %d", st)
	}
	product := map[string]any{"sku": "SAF-1G", "names": map[string]string{"fr": "Safran de Taliouine 1 g", "en": "Taliouine saffron 1 g", "ar": "زعفران تالوين 1 غ"},
		"kind": "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 1, "unit": "g"}}
	if st := e.JSON("POST", "/api/v1/products", e.AdminToken, product, nil); st != 201 {
		t.Fatalf("product: %d", st)
	}
	var jars lotAnswer
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.manager, map[string]any{"lot": dried.Code, "sku": "SAF-1G", "units": 50, "best_before": "2028-12-31"}, &jars); st != 201 {
		t.Fatalf("packing: %d", st)
	}
	shop := map[string]string{"code": "TAROUDANNT", "name": "Boutique solidaire de Taroudannt", "city": "Taroudannt", "currency": "MAD", "kind": "boutique"}
	if st := e.JSON("POST", "/api/v1/shops", e.AdminToken, shop, nil); st != 201 {
		t.Fatalf("shop: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/shops/TAROUDANNT/receipts", e.AdminToken, map[string]any{"lot": jars.Code, "units": 30}, nil); st != 201 {
		t.Fatalf("receipt: %d", st)
	}
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	season := fmt.Sprint(e.Traceability.CurrentSeason())

	var mb balanceAnswer
	if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/mass-balance?season="+season, auditor, nil, &mb); st != 200 || len(mb.Rows) != 2 {
		t.Fatalf("mass balance: %d %+v", st, mb)
	}
	r := mb.Rows[1]
	if r.ProductKind != "saffron_dried" || r.Unit != "mg" || r.Produced != 100_000 || r.Packed != 50_000 || r.OnHand != 50_000 || r.Losses != 0 ||
		r.TransformationLoss != 0 || r.Unexplained != 0 || len(r.InconsistentLots) != 0 || r.PackedUnits != 50 || r.ShippedUnits != 30 || r.Shipped != 30_000 || r.OnHandUnits != 20 {
		t.Fatalf("dried saffron row %+v", r)
	}
	if f := mb.Rows[0]; f.Unit != "mg" || f.Harvested != 500_000 || f.Transformed != 500_000 || f.TransformationLoss != 400_000 || f.YieldPercent != "20.0" || f.Losses != 0 {
		t.Fatalf("fresh saffron row %+v", f)
	}

	b := newBrowser(t, e)
	b.loginAs("audit@onssa.ma")
	_, page := b.get("/audit/SIROUA?season=" + season)
	i := strings.Index(page, `<tr id="bal-saffron_dried">`)
	if i < 0 {
		t.Fatal("no dried saffron row on the audit page")
	}
	row := page[i : i+strings.Index(page[i:], "</tr>")]
	// Kind, lots, harvested, produced, corrections, transformed, packed, on
	// hand, losses, transformation loss, yield, unexplained.
	cells := regexpCells(row)
	want := []string{"Safran séché (mg)", "2", "0 mg", "100 g", "0 mg", "0 mg", "50 g", "50 g", "0 mg", "0 mg", "", "0 mg"}
	if strings.Join(cells, "|") != strings.Join(want, "|") {
		t.Errorf("audit row\n got %q\nwant %q", cells, want)
	}
	if strings.Contains(page, "pcs</span>") || strings.Contains(page, ">-") || strings.Contains(page, "bal_does_not_reconcile") || strings.Contains(page, `class="issues"`) {
		t.Error("the audit page mixes units, shows a negative figure or an issue")
	}
	j := strings.Index(page, `<tr id="units-saffron_dried">`)
	if j < 0 {
		t.Fatal("no dried saffron row in the packed units' table")
	}
	units := regexpCells(page[j : j+strings.Index(page[j:], "</tr>")])
	if want := []string{"Safran séché", "50 unités · 50 g", "0", "30 unités · 30 g", "0 unité · 0 mg", "20 unités · 20 g"}; strings.Join(units, "|") != strings.Join(want, "|") {
		t.Errorf("packed units\n got %q\nwant %q", units, want)
	}

	resp, body := b.get("/audit/SIROUA/mass-balance.csv?season=" + season)
	if resp.StatusCode != 200 {
		t.Fatalf("CSV: %d", resp.StatusCode)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("CSV: %v\n%s", err, body)
	}
	col := map[string]int{}
	for k, h := range recs[0] {
		col[h] = k
	}
	d := recs[2]
	for h, v := range map[string]string{"Produit": "saffron_dried", "Unité": "mg", "Produit par transformation": "100000", "Conditionné": "50000", "En stock": "50000",
		"Pertes": "0", "Perte de transformation": "0", "Inexpliqué": "0", "Unités conditionnées": "50", "Unités expédiées": "30", "Expédié": "30000", "Unités en stock": "20", "Lots incohérents": ""} {
		k, ok := col[h]
		if !ok || d[k] != v {
			t.Errorf("CSV column %q = %q, want %q (header %v)", h, d[min(k, len(d)-1)], v, recs[0])
		}
	}

	// A lot edited in the store, not by an event: the row says it does not
	// reconcile and names the lot, and nothing is shown as a loss.
	if _, err := e.Store.Collection("lots").UpdateOne(context.Background(), bson.M{"_id": dried.Code}, bson.M{"$set": bson.M{"available": 70_000}}); err != nil {
		t.Fatal(err)
	}
	_, page = b.get("/audit/SIROUA?season=" + season)
	if !strings.Contains(page, `<tr class="issues">`) || !strings.Contains(page, "le lot "+dried.Code+" n&#39;est pas expliqué par ses événements (disponible selon eux 50 g, enregistré 70 g)") {
		t.Error("the audit page does not name the lot edited in place")
	}
	i = strings.Index(page, `<tr id="bal-saffron_dried" class="open">`)
	if i < 0 {
		t.Fatal("the dried saffron row is not marked")
	}
	if cells := regexpCells(page[i : i+strings.Index(page[i:], "</tr>")]); cells[7] != "70 g" || cells[8] != "0 mg" || cells[11] != "-20 g" {
		t.Errorf("row after the edit: %q", cells)
	}
	_, body = b.get("/audit/SIROUA/mass-balance.csv?season=" + season)
	if !strings.Contains(body, ","+dried.Code+"\n") {
		t.Errorf("the CSV does not name the lot edited in place:\n%s", body)
	}
}

// regexpCells returns the text of a table row's cells, tags removed.
func regexpCells(row string) []string {
	var out []string
	for _, c := range strings.Split(row, "<td")[1:] {
		c = c[strings.Index(c, ">")+1:]
		c = c[:strings.Index(c, "</td>")]
		var sb strings.Builder
		in := false
		for _, r := range c {
			switch {
			case r == '<':
				in = true
			case r == '>':
				in = false
			case !in:
				sb.WriteRune(r)
			}
		}
		out = append(out, strings.TrimSpace(sb.String()))
	}
	return out
}
