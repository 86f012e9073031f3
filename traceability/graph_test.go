package traceability

import (
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/problem"
)

func TestProcessGraph(t *testing.T) {
	tests := []struct {
		process string
		inputs  []string
		want    []string
	}{
		{"drying", []string{"saffron"}, []string{"saffron_dried"}},
		{"drying", []string{"pamm"}, []string{"pamm_dried"}},
		{"distillation", []string{"pamm"}, []string{"essential_oil", "hydrosol"}},
		{"distillation", []string{"pamm_dried"}, []string{"essential_oil", "hydrosol"}},
		{"distillation", []string{"rose", "rose"}, []string{"essential_oil", "hydrosol"}},
		{"cracking", []string{"argan"}, []string{"argan_kernels"}},
		{"extraction", []string{"argan_kernels"}, []string{"argan_oil"}},
		{"pressing", []string{"argan_kernels"}, []string{"argan_oil"}},
		{"pressing", []string{"olive"}, []string{"olive_oil"}},
		{"cracking", []string{"almond"}, []string{"almond_kernels"}},
		{"sorting", []string{"saffron_dried"}, []string{"saffron_dried"}},
		{"blending", []string{"argan_oil", "argan_oil"}, []string{"argan_oil"}},
		{"blending", []string{"honey"}, []string{"honey"}},
		{"drying", []string{"almond"}, nil},
		{"sorting", []string{"crafts"}, nil},
		{"blending", []string{"argan_oil", "olive_oil"}, nil}, // one kind in
		{"drying", nil, nil},
		{"fermentation", []string{"pamm"}, nil},
	}
	for _, tt := range tests {
		if got := TransformationOutputs(tt.process, tt.inputs); !slices.Equal(got, tt.want) {
			t.Errorf("TransformationOutputs(%s, %v) = %v, want %v", tt.process, tt.inputs, got, tt.want)
		}
	}
	// Every kind of the catalogue is reviewed: each but crafts is reached
	// from a crop, and each edge has its range, hard limit and source.
	for _, k := range ProductKinds() {
		crops := CropsOfKind(k)
		if (k == "crafts") != (len(crops) == 0) {
			t.Errorf("kind %s is made from crops %v", k, crops)
		}
	}
	for _, e := range GraphEdges() {
		if e.InputKind == AnyKind || e.Limit <= 0 || e.LimitText == "" || e.Source == "" || e.Max > e.Limit {
			t.Errorf("edge %s %s → %s: %+v", e.Process, e.InputKind, e.OutputKind, e)
		}
		if KindUnit(e.InputKind); e.InputUnit != productKinds[e.InputKind] || e.OutputUnit != productKinds[e.OutputKind] {
			t.Errorf("edge %s %s → %s is written in %s → %s", e.Process, e.InputKind, e.OutputKind, e.InputUnit, e.OutputUnit)
		}
	}
	if got := KindsFromCrop("saffron"); !slices.Equal(got, []string{"saffron", "saffron_dried"}) {
		t.Errorf("KindsFromCrop(saffron) = %v", got)
	}
	if got := CropsOfKind("essential_oil"); !slices.Equal(got, []string{"pamm", "rose"}) {
		t.Errorf("CropsOfKind(essential_oil) = %v", got)
	}
	opts := TransformationOptions("pamm")
	if len(opts) != 4 || opts[0].Process != "drying" || !slices.Equal(opts[2].Outputs, []string{"essential_oil", "hydrosol"}) {
		t.Errorf("TransformationOptions(pamm) = %+v", opts)
	}
	if g := Graph(); len(g.Kinds) != len(ProductKinds()) || len(g.Edges) != len(GraphEdges()) {
		t.Errorf("Graph() has %d kinds and %d edges", len(g.Kinds), len(g.Edges))
	}
}

// TestTransformRefusesWhatTheProcessCannotMake: drying saffron into almonds
// is refused naming the output and what drying makes of saffron, and nothing
// is written; so are mixed inputs.
func TestTransformRefusesWhatTheProcessCannotMake(t *testing.T) {
	f := newFixture(t)
	saffron := f.originLot("saffron", g(500))
	_, err := f.transform("drying", in(saffron, g(500)), out("almond", g(80)))
	p := wantProblem(t, err, problem.Invalid, "outputs[0].product_kind")
	if !strings.Contains(p.Message, "saffron_dried") {
		t.Errorf("message %q does not say what drying makes of saffron", p.Message)
	}
	_, err = f.transform("cracking", in(saffron, g(100)), out("argan_kernels", g(5)))
	wantProblem(t, err, problem.Invalid, "outputs[0].product_kind")
	_, err = f.transform("drying", in(saffron, g(100)), out("saffron_dried", g(20)), out("hydrosol", ml(10)))
	wantProblem(t, err, problem.Invalid, "outputs[1].product_kind")

	almond := f.originLot("almond", kg(10))
	_, err = f.transform("blending", []LotInput{{Lot: saffron.Code, Quantity: g(10)}, {Lot: almond.Code, Quantity: g(10)}}, out("saffron", g(20)))
	wantProblem(t, err, problem.Invalid, "inputs[1].lot")

	if got := f.lot(saffron.Code); got.Available != 500_000 || len(got.Events) != 1 {
		t.Fatalf("a refused transformation changed the input: available %d, %d events", got.Available, len(got.Events))
	}
	if n, _ := f.s.store.db.Collection("lots").CountDocuments(f.ctx, bson.M{}); n != 2 {
		t.Fatalf("%d lots after refused transformations, want 2", n)
	}
}

// TestImpossibleIsRefusedUnusualIsFlagged: beyond the hard limits → 422
// with a message saying the limit, nothing stored; within them but out of
// range → a flag.
func TestImpossibleIsRefusedUnusualIsFlagged(t *testing.T) {
	f := newFixture(t)
	// 100 t of saffron on 1 700 m².
	f.parcel("saffron", 1700)
	_, err := f.harvest("saffron", "2025-10-28", kg(100_000))
	p := wantProblem(t, err, problem.Unprocessable, "quantity")
	if !strings.Contains(p.Message, "100 t") && !strings.Contains(p.Message, "100000 kg") || !strings.Contains(p.Message, "600 kg/ha") {
		t.Errorf("message %q does not say what limit was passed", p.Message)
	}
	if n, _ := f.s.store.db.Collection("harvests").CountDocuments(f.ctx, bson.M{}); n != 0 {
		t.Fatalf("a refused harvest was stored (%d)", n)
	}
	if pc, _ := f.s.store.parcel(f.ctx, f.parcels["saffron"]); pc.SeasonTotals["2025_saffron"] != 0 {
		t.Fatalf("a refused harvest counted in the season: %v", pc.SeasonTotals)
	}
	// The same through a CSV import: the row is refused, nothing imported.
	csv := "parcel,member,date,crop,amount,unit\n" + f.parcels["saffron"] + "," + f.member + ",2025-10-28,saffron,100000,kg\n"
	_, err = f.s.ImportHarvests(f.ctx, f.manager, f.coop, strings.NewReader(csv))
	if p, ok := problem.As(err); !ok || p.Code != problem.Unprocessable || !strings.Contains(p.Error(), "refused") {
		t.Fatalf("import of an impossible harvest: %v", err)
	} else if rows, _ := p.Details.([]RowError); len(rows) != 1 || rows[0].Field != "amount" || !strings.Contains(rows[0].Message, "more than any field gives") {
		t.Fatalf("import rows %+v", p.Details)
	}
	// 12 kg on 1 700 m² is unusual (max 10.2 kg) but possible: flagged.
	h, err := f.harvest("saffron", "2025-10-29", kg(12))
	if err != nil || !strings.Contains(h.Flag, "above the typical maximum") {
		t.Fatalf("unusual harvest: %+v %v", h, err)
	}

	lot, err := f.s.CreateOriginLot(f.ctx, f.manager, f.coop, NewOriginLot{ProductKind: "saffron", Harvests: []string{h.ID}})
	if err != nil {
		t.Fatal(err)
	}
	dried := f.mustTransform("drying", in(lot, g(250)), out("saffron_dried", g(50)))[0]
	// 50 g dried into 60 g: more out than in.
	_, err = f.transform("sorting", in(dried, g(50)), out("saffron_dried", g(60)))
	if p := wantProblem(t, err, problem.Unprocessable, "outputs"); !strings.Contains(p.Message, "sorting of 50 g cannot give outputs holding 60 g") {
		t.Errorf("message %q", p.Message)
	}
	_, err = f.transform("drying", in(lot, g(50)), out("saffron_dried", g(60)))
	p = wantProblem(t, err, problem.Unprocessable, "outputs")
	if !strings.Contains(p.Message, "more than the inputs") {
		t.Errorf("message %q", p.Message)
	}
	// Unusual yield (40 %): made, and flagged.
	flagged := f.mustTransform("drying", in(lot, g(50)), out("saffron_dried", g(20)))[0]
	if len(flagged.Flags) != 1 || !strings.Contains(flagged.Flags[0].Reason, "above the typical maximum") {
		t.Fatalf("flags %+v", flagged.Flags)
	}

	// Mass into volume: essential oil weighed at its lowest density.
	pamm := f.originLot("pamm", kg(100))
	_, err = f.transform("distillation", in(pamm, kg(10)), out("essential_oil", Quantity{Amount: 12, Unit: "l"}))
	wantProblem(t, err, problem.Unprocessable, "outputs") // 12 l ≈ 10.2 kg at 0.85 kg/l
	// Hydrosol is not counted against the plants, but has its own limit.
	made := f.mustTransform("distillation", in(pamm, kg(10)), out("essential_oil", ml(100)), out("hydrosol", Quantity{Amount: 15, Unit: "l"}))
	if len(made) != 2 || made[1].ProductKind != "hydrosol" {
		t.Fatalf("distillation made %+v", made)
	}
	_, err = f.transform("distillation", in(pamm, kg(10)), out("hydrosol", Quantity{Amount: 250, Unit: "l"}))
	wantProblem(t, err, problem.Unprocessable, "outputs")
	if got := f.lot(pamm.Code); got.Available != 90_000_000 {
		t.Fatalf("pamm available %d after one distillation of 10 kg", got.Available)
	}
}
