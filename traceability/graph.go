package traceability

import (
	"slices"
	"strings"

	"github.com/terroir-coop/terroir/internal/problem"
)

// The process graph (see plausibility.go): every transformation row of the
// plausibility table is an edge from an input kind to an output kind. These
// functions are what forms and the /plausibility page and JSON read.

// processable reports whether a kind can go through sorting and blending:
// every kind but crafts (pieces are not transformed here).
func processable(kind string) bool {
	u, ok := productKinds[kind]
	return ok && u != Piece
}

// edge returns the row for process turning in into out: the row naming
// exactly these kinds, else the process's keep-the-kind row when out is in.
func edge(process, in, out string) (Range, bool) {
	var keep Range
	found := false
	for _, r := range PlausibilityTable() {
		if r.Check != CheckKindTransformation || r.Process != process {
			continue
		}
		if r.InputKind == in && r.OutputKind == out {
			return r, true
		}
		if r.InputKind == AnyKind && in == out && processable(in) {
			keep, found = r, true
		}
	}
	return keep, found
}

// GraphEdges returns the process graph as explicit edges: the table's
// transformation rows, with the keep-the-kind rows (sorting, blending)
// written out for every kind they apply to, in units of that kind. Sorted
// by input kind, process and output kind.
func GraphEdges() []Range {
	var out []Range
	for _, r := range PlausibilityTable() {
		if r.Check != CheckKindTransformation {
			continue
		}
		if r.InputKind != AnyKind {
			out = append(out, r)
			continue
		}
		for _, k := range ProductKinds() {
			if !processable(k) {
				continue
			}
			e := r
			e.InputKind, e.OutputKind = k, k
			e.InputUnit, e.OutputUnit = productKinds[k], productKinds[k]
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b Range) int {
		return strings.Compare(a.InputKind+"|"+a.Process+"|"+a.OutputKind, b.InputKind+"|"+b.Process+"|"+b.OutputKind)
	})
	return out
}

// TransformationOutputs returns the kinds process can make from inputs of
// the given kinds, sorted. Inputs of one transformation are all of one kind
// (see plausibility.go); with mixed or unknown input kinds, or a process
// that takes none of them, the list is empty.
func TransformationOutputs(process string, inputKinds []string) []string {
	if len(inputKinds) == 0 {
		return nil
	}
	in := inputKinds[0]
	for _, k := range inputKinds[1:] {
		if k != in {
			return nil
		}
	}
	var out []string
	for _, e := range GraphEdges() {
		if e.Process == process && e.InputKind == in {
			out = append(out, e.OutputKind)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ProcessOption is a process a lot of some kind can go through and what it
// can make, for the transformation form (one select per step, no script).
type ProcessOption struct {
	Process string   `json:"process"`
	Outputs []string `json:"outputs"`
}

// TransformationOptions lists, for an input kind, every process that takes
// it and the kinds each can make, in the order of Processes.
func TransformationOptions(inputKind string) []ProcessOption {
	var out []ProcessOption
	for _, p := range Processes {
		if kinds := TransformationOutputs(p, []string{inputKind}); len(kinds) > 0 {
			out = append(out, ProcessOption{Process: p, Outputs: kinds})
		}
	}
	return out
}

// KindInfo is a product kind as the graph page shows it.
type KindInfo struct {
	Kind    string   `json:"kind"`
	Unit    Unit     `json:"unit"`              // base unit: mg, ml or pcs
	Density float64  `json:"density,omitempty"` // kg/l, for kinds counted by volume
	Crops   []string `json:"crops"`             // the crops it can be made from
}

// ProcessGraph is the graph with its sources, JSON-ready for /plausibility.
type ProcessGraph struct {
	Kinds []KindInfo `json:"kinds"`
	Edges []Range    `json:"edges"` // each with its yield range, hard limit and source
}

// Graph returns the process graph.
func Graph() ProcessGraph {
	g := ProcessGraph{Edges: GraphEdges()}
	for _, k := range ProductKinds() {
		g.Kinds = append(g.Kinds, KindInfo{Kind: k, Unit: productKinds[k], Density: KindDensity(k), Crops: CropsOfKind(k)})
	}
	return g
}

// KindsFromCrop returns every kind that can be made from a crop: the crop
// itself and what the graph reaches from it, sorted. A certificate scoped to
// a crop covers all of them.
func KindsFromCrop(crop string) []string {
	if !slices.Contains(Crops, crop) {
		return nil
	}
	edges := GraphEdges()
	seen := map[string]bool{crop: true}
	queue := []string{crop}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, e := range edges {
			if e.InputKind == k && !seen[e.OutputKind] {
				seen[e.OutputKind] = true
				queue = append(queue, e.OutputKind)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// CropsOfKind returns the crops a kind can be made from (essential oil from
// PAMM or roses), sorted; none for crafts.
func CropsOfKind(kind string) []string {
	out := []string{}
	for _, c := range Crops {
		if slices.Contains(KindsFromCrop(c), kind) {
			out = append(out, c)
		}
	}
	return out
}

// checkEdge refuses an output the process cannot make from the input kind,
// naming the field and the kinds it can make.
func checkEdge(field, process, inKind, outKind string) (Range, error) {
	if r, ok := edge(process, inKind, outKind); ok {
		return r, nil
	}
	if can := TransformationOutputs(process, []string{inKind}); len(can) > 0 {
		return Range{}, problem.Field(field, "%s of %s makes only %s, not %s", problem.Step(process), problem.Kind(inKind), problem.Kinds(can), problem.Kind(outKind))
	}
	return Range{}, problem.Field(field, "%s does not take %s: nothing can be made from it by %s", problem.Step(process), problem.Kind(inKind), problem.Step(process))
}
