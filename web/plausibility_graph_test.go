package web_test

import (
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestPlausibilityPageShowsTheProcessGraph: the public /plausibility page
// lists, for every input kind, the processes that take it and what each
// makes (traceability.Graph), in the visitor's language.
func TestPlausibilityPageShowsTheProcessGraph(t *testing.T) {
	e := webtest.New(t)
	st, page := getPage(t, e, "/plausibility", "fr")
	if st != 200 || !strings.Contains(page, `id="graph"`) {
		t.Fatalf("/plausibility: %d, no graph", st)
	}
	edges := traceability.GraphEdges()
	if len(edges) < 10 {
		t.Fatalf("only %d edges: the check would prove nothing", len(edges))
	}
	for _, ed := range edges {
		if !strings.Contains(page, `id="edge-`+ed.InputKind+`-`+ed.OutputKind+`"`) {
			t.Errorf("no row for %s → %s", ed.InputKind, ed.OutputKind)
		}
	}
	i := strings.Index(page, `id="edge-saffron-saffron_dried"`)
	if i < 0 {
		t.Fatal("no row for drying saffron")
	}
	row := page[i : i+strings.Index(page[i:], "</tr>")]
	if !strings.Contains(page, `<strong>Safran (stigmates frais)</strong> <small dir="ltr">(mg)</small><br><small>issu de : Safran (stigmates frais)</small>`) {
		t.Error("no group for fresh saffron with its unit and crop")
	}
	for _, w := range []string{"Séchage", "Safran séché"} {
		if !strings.Contains(row, w) {
			t.Errorf("the drying row lacks %q: %s", w, row)
		}
	}
	if strings.Contains(page, `id="edge-saffron-almond"`) {
		t.Error("the page offers saffron into almonds")
	}
	_, ar := getPage(t, e, "/plausibility", "ar")
	if !strings.Contains(ar, `dir="rtl"`) || !strings.Contains(ar, "ما الذي تصنعه كل عملية") {
		t.Error("the Arabic page lacks the graph's title or its direction")
	}
}

// TestPlausibilityGraphJSON: the graph is public JSON, drying saffron makes
// dried saffron only, every edge carries its source and limit.
func TestPlausibilityGraphJSON(t *testing.T) {
	e := webtest.New(t)
	var g struct {
		Kinds []struct {
			Kind  string   `json:"kind"`
			Unit  string   `json:"unit"`
			Crops []string `json:"crops"`
		} `json:"kinds"`
		Edges []struct {
			Process    string  `json:"process"`
			InputKind  string  `json:"input_kind"`
			OutputKind string  `json:"output_kind"`
			Source     string  `json:"source"`
			Limit      float64 `json:"limit"`
		} `json:"edges"`
	}
	if st := e.JSON("GET", "/api/v1/plausibility/graph", "", nil, &g); st != 200 || len(g.Kinds) != len(traceability.ProductKinds()) || len(g.Edges) != len(traceability.GraphEdges()) {
		t.Fatalf("graph: %d, %d kinds, %d edges", st, len(g.Kinds), len(g.Edges))
	}
	var drying []string
	for _, ed := range g.Edges {
		if ed.Source == "" || ed.Limit <= 0 {
			t.Errorf("edge %s %s → %s has no source or limit", ed.Process, ed.InputKind, ed.OutputKind)
		}
		if ed.Process == "drying" && ed.InputKind == "saffron" {
			drying = append(drying, ed.OutputKind)
		}
	}
	if len(drying) != 1 || drying[0] != "saffron_dried" {
		t.Errorf("drying saffron makes %v, want [saffron_dried]", drying)
	}
}
