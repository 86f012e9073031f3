package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

func transformation(process, lot string, inGrams int64, kind string, outGrams int64) map[string]any {
	return map[string]any{"process": process,
		"inputs":  []map[string]any{{"lot": lot, "quantity": map[string]any{"amount": inGrams, "unit": "g"}}},
		"outputs": []map[string]any{{"product_kind": kind, "quantity": map[string]any{"amount": outGrams, "unit": "g"}}}}
}

// TestTransformationsFollowTheGraphThroughTheAPI is the Done-when:
// drying saffron into almonds → 400 naming the output's kind and what
// drying makes; 50 g of dried saffron sorted into 60 g → 422; neither
// stores anything.
func TestTransformationsFollowTheGraphThroughTheAPI(t *testing.T) {
	f := newRecords(t)
	_, dried := f.dry(t, f.lot.Code, 500, 100)
	before := f.e.Count("lots")

	var a apiError
	if st := f.e.JSON("POST", "/api/v1/cooperatives/SIROUA/transformations", f.manager, transformation("drying", f.lot.Code, 100, "almond", 20), &a); st != 400 ||
		a.Error.Field != "outputs[0].product_kind" || !strings.Contains(a.Error.Message, "makes only saffron_dried, not almond") {
		t.Fatalf("drying saffron into almonds: %d %+v", st, a.Error)
	}
	a = apiError{}
	if st := f.e.JSON("POST", "/api/v1/cooperatives/SIROUA/transformations", f.manager, transformation("sorting", dried.Code, 50, "saffron_dried", 60), &a); st != 422 ||
		a.Error.Field != "outputs" || !strings.Contains(a.Error.Message, "more than the inputs") {
		t.Fatalf("50 g dried sorted into 60 g: %d %+v", st, a.Error)
	}
	if n := f.e.Count("lots"); n != before {
		t.Fatalf("refused transformations stored lots: %d → %d", before, n)
	}
	if l := getLot(t, f.e, f.manager, dried.Code); l.Available.Amount != 100_000 {
		t.Fatalf("refused transformations took from the lot: %+v", l.Available)
	}
	// Sorting 50 g into 48 g is what sorting does.
	if st := f.e.JSON("POST", "/api/v1/cooperatives/SIROUA/transformations", f.manager, transformation("sorting", dried.Code, 50, "saffron_dried", 48), nil); st != 201 {
		t.Fatalf("sorting 50 g into 48 g: %d", st)
	}
}

var optionValue = regexp.MustCompile(`<option value="([a-z_]+)"`)

// outputKinds are the kinds the first output row of the transformation
// form offers.
func outputKinds(page string) []string {
	i := strings.Index(page, `name="out0_kind"`)
	if i < 0 {
		return nil
	}
	sel := page[i:]
	sel = sel[:strings.Index(sel, "</select>")]
	var out []string
	for _, m := range optionValue.FindAllStringSubmatch(sel, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestTransformationFormOffersOnlyWhatTheProcessMakes: choosing the input
// lot and the process (a GET form, no script) gives a form whose output
// select holds only what the graph allows; a process that does not take
// the lot says so in the page's language; refusals of a wrong output and
// of an impossible yield are in the page's language, in French and Arabic.
func TestTransformationFormOffersOnlyWhatTheProcessMakes(t *testing.T) {
	f := newRecords(t)
	_, dried := f.dry(t, f.lot.Code, 500, 100)
	b := f.browserOf(t, f.managerEmail)

	_, page := b.get("/coop/SIROUA/lots")
	if !strings.Contains(page, `<form method="get" action="/coop/SIROUA/lots#transform"`) || strings.Contains(page, `action="/coop/SIROUA/transformations"`) {
		t.Fatal("the transformation form does not start by choosing the lot and the process")
	}
	_, page = b.get("/coop/SIROUA/lots?in0_lot=" + f.lot.Code + "&process=drying")
	if got := outputKinds(page); len(got) != 1 || got[0] != "saffron_dried" {
		t.Fatalf("drying fresh saffron offers %v, want [saffron_dried]", got)
	}
	if !strings.Contains(page, `action="/coop/SIROUA/transformations"`) || !strings.Contains(page, `<input type="hidden" name="process" value="drying">`) {
		t.Fatal("no transformation form for drying")
	}
	_, page = b.get("/coop/SIROUA/lots?in0_lot=" + dried.Code + "&process=blending")
	if got := outputKinds(page); len(got) != 1 || got[0] != "saffron_dried" {
		t.Fatalf("blending dried saffron offers %v, want [saffron_dried]", got)
	}
	_, page = b.get("/coop/SIROUA/lots?in0_lot=" + dried.Code + "&process=distillation")
	if outputKinds(page) != nil || !strings.Contains(errorOf(page), "Distillation ne s'applique pas à ce lot (Safran séché)") || !strings.Contains(page, "Tri → Safran séché") {
		t.Fatalf("distilling dried saffron: %q", errorOf(page))
	}

	csrf := csrfOf(t, page)
	post := func(path, process, lot, amount, kind, out string) (int, string) {
		resp, body := b.post(path, url.Values{"csrf": {csrf}, "process": {process}, "in0_lot": {lot}, "in0_amount": {amount}, "in0_unit": {"g"},
			"out0_kind": {kind}, "out0_amount": {out}, "out0_unit": {"g"}})
		return resp.StatusCode, body
	}
	st, body := post("/coop/SIROUA/transformations", "drying", f.lot.Code, "100", "almond", "20")
	if st != 400 || !strings.Contains(errorOf(body), "Type de produit (ligne 1) : Séchage : à partir de Safran (stigmates frais), ce procédé ne donne que Safran séché, pas Amandes en coque") {
		t.Fatalf("drying into almonds: %d %q", st, errorOf(body))
	}
	if got := outputKinds(body); len(got) != 1 || got[0] != "saffron_dried" || !strings.Contains(body, `value="20"`) {
		t.Errorf("the refused form does not come back with the drying outputs and what was typed: %v", got)
	}
	st, body = post("/coop/SIROUA/transformations", "sorting", dried.Code, "50", "saffron_dried", "60")
	if st != 422 || !strings.Contains(errorOf(body), "Tri de 50 g ne peut pas donner des sorties de 60 g") {
		t.Fatalf("sorting 50 g into 60 g: %d %q", st, errorOf(body))
	}
	st, body = post("/coop/SIROUA/transformations?lang=ar", "sorting", dried.Code, "50", "saffron_dried", "60")
	if st != 422 || !strings.Contains(errorOf(body), "ستحتوي النواتج على أكثر من المدخلات") || !strings.Contains(body, `dir="rtl"`) {
		t.Fatalf("sorting 50 g into 60 g, in Arabic: %d %q", st, errorOf(body))
	}
	if l := getLot(t, f.e, f.manager, dried.Code); l.Available.Amount != 100_000 {
		t.Fatalf("refused transformations took from the lot: %+v", l.Available)
	}
}
