package backoffice

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// seasonsShown is how many past seasons the auditor's season select offers.
const seasonsShown = 6

type seasonOption struct {
	Year     int
	Label    string // "2026–2027"
	Selected bool
}

// balanceLine is a mass-balance row with its quantities written for people,
// every one in the row's unit (a packed unit counts for its net content).
type balanceLine struct {
	traceability.BalanceRow
	KindName                                                                    string
	Harvested, Produced, Transformed, Packed, Shipped, Adjusted, OnHand, Losses string
	Corrections, TransformationLoss, Unexplained, Sold, OnHandPacked            string
	// Issues explain a row that does not reconcile, naming its lots.
	Issues []string
}

type flaggedRow struct {
	traceability.FlaggedLot
	KindName string
	Flags    []flagRow // the lot's flags written in the page's language
}

type auditView struct {
	page.Page
	Cooperative traceability.Cooperative
	Flagged     []flaggedRow
	OpenFlags   int
	SeasonLabel string
	Seasons     []seasonOption
	Balance     []balanceLine
	CSVURL      string
	Season      int
	Evidence    evidenceView // the evidence file section (issue 18)
	// Corrections are the corrected events of the season's lots, oldest
	// first: what was corrected, by whom and why.
	Corrections []auditCorrection
}

// auditCorrection is one corrected event of a lot, for the auditor.
type auditCorrection struct {
	Lot, KindName, At, From, To, Reason, By string
	when                                    time.Time
}

// seasonCorrections lists the corrected events of the cooperative's lots
// made in the season (as the mass balance counts them), oldest first.
func (h *Handlers) seasonCorrections(c *gin.Context, coop string, season int) ([]auditCorrection, error) {
	l := page.Locale(c)
	lots, err := collect(selectLimit, func(p mongodb.Page) ([]traceability.Lot, error) {
		return h.d.Records.Lots(c.Request.Context(), page.Actor(c), coop, p)
	})
	if err != nil {
		return nil, err
	}
	from, to := time.Date(season, time.September, 1, 0, 0, 0, 0, time.UTC), time.Date(season+1, time.September, 1, 0, 0, 0, 0, time.UTC)
	var out []auditCorrection
	for _, lot := range lots {
		if lot.CreatedAt.Before(from) || !lot.CreatedAt.Before(to) {
			continue
		}
		q := lot.Quantity
		for _, e := range lot.Events {
			if e.Type != traceability.EventCorrected {
				continue
			}
			out = append(out, auditCorrection{Lot: lot.Code, KindName: l.Kind(lot.ProductKind), At: dateOf(e.At),
				From: l.Quantity(q, lot.Unit), To: l.Quantity(q+e.Quantity, lot.Unit), Reason: e.Note, By: e.Actor, when: e.At})
			q += e.Quantity
		}
	}
	slices.SortStableFunc(out, func(a, b auditCorrection) int { return a.when.Compare(b.when) })
	return out, nil
}

// AuditPage answers GET /audit/{coop}: the flagged lots (open ones first)
// and the mass balance of a season, for auditors, the admin and the
// manager.
func (h *Handlers) AuditPage(c *gin.Context) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	coop, err := h.d.Cooperatives.Cooperative(ctx, actor, c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	current := h.d.Audits.CurrentSeason()
	season, err := seasonOf(c, current)
	if err != nil {
		page.Fail(c, err)
		return
	}
	flagged, err := h.d.Audits.Flags(ctx, actor, coop.Code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	// Open flags first: they are what an auditor has to follow up.
	slices.SortStableFunc(flagged, func(a, b traceability.FlaggedLot) int {
		return min(b.Open, 1) - min(a.Open, 1)
	})
	rows, err := h.d.Audits.MassBalance(ctx, actor, coop.Code, season)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &auditView{Page: h.d.Pages.Page(c, l.T("audit")), Cooperative: coop, SeasonLabel: seasonLabel(season),
		CSVURL: "/audit/" + esc(coop.Code) + "/mass-balance.csv?season=" + strconv.Itoa(season)}
	if v.Corrections, err = h.seasonCorrections(c, coop.Code, season); err != nil {
		page.Fail(c, err)
		return
	}
	for _, f := range flagged {
		v.Flagged = append(v.Flagged, flaggedRow{FlaggedLot: f, KindName: l.Kind(f.ProductKind), Flags: flagRows(l, f.Flags)})
		v.OpenFlags += f.Open
	}
	for y := current; y > current-seasonsShown; y-- {
		v.Seasons = append(v.Seasons, seasonOption{Year: y, Label: seasonLabel(y), Selected: y == season})
	}
	if season > current || season <= current-seasonsShown {
		v.Seasons = append(v.Seasons, seasonOption{Year: season, Label: seasonLabel(season), Selected: true})
	}
	for _, r := range rows {
		q := func(n int64) string { return l.Quantity(n, r.Unit) }
		line := balanceLine{BalanceRow: r, KindName: l.Kind(r.ProductKind), Harvested: q(r.Harvested), Produced: q(r.Produced),
			Transformed: q(r.Transformed), Packed: q(r.Packed), Shipped: q(r.Shipped), Adjusted: q(r.Adjusted),
			OnHand: q(r.OnHand), Losses: q(r.Losses), Corrections: q(r.Corrections), TransformationLoss: q(r.TransformationLoss),
			Unexplained: q(r.Unexplained), Sold: q(r.Sold), OnHandPacked: q(r.OnHandPacked)}
		for _, is := range r.Inconsistencies {
			switch is.Issue {
			case traceability.IssueOutputExceedsIns:
				line.Issues = append(line.Issues, l.T("bal_issue_exceeds", is.Lot, q(is.Expected), q(is.Recorded)))
			default:
				line.Issues = append(line.Issues, l.T("bal_issue_not_explained", is.Lot, q(is.Expected), q(is.Recorded)))
			}
		}
		v.Balance = append(v.Balance, line)
	}
	v.Season = season
	v.Evidence = h.evidenceSection(c, l, &v.Page, coop.Code)
	h.d.Pages.Render(c, http.StatusOK, "backoffice/audit", v)
}

// BalanceCSV answers GET /audit/{coop}/mass-balance.csv for a logged-in
// browser: the API's CSV needs a bearer token, which a page link cannot
// carry. The headers are in the page's language.
func (h *Handlers) BalanceCSV(c *gin.Context) {
	season, err := seasonOf(c, h.d.Audits.CurrentSeason())
	if err != nil {
		page.Fail(c, err)
		return
	}
	// Reading the cooperative first makes an unknown code a 404 and keeps
	// the file name to a validated code.
	coop, err := h.d.Cooperatives.Cooperative(c.Request.Context(), page.Actor(c), c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	rows, err := h.d.Audits.MassBalance(c.Request.Context(), page.Actor(c), coop.Code, season)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="mass-balance-%s-%d.csv"`, coop.Code, season))
	c.Status(http.StatusOK)
	page.WriteBalanceCSV(c.Writer, page.Locale(c), rows)
}

// plausibilityRow is a range of the plausibility table, named in the
// page's language.
type plausibilityRow struct {
	traceability.Range
	What string // the crop, or the process with its input and output
	// Span is the range's bounds in the page's numbers ("2–60", "16–25 %");
	// Per says what they count, in the page's language.
	Span, Per string
}

// plausibilitySpan writes a range in the units people use, from its bounds
// (the domain's Typical is the English of flag messages): kg/ha per season
// for harvests; % of the input mass when a mass gives a mass; litres per
// kg of hydrosol and millilitres per kg of oil when a mass gives a volume; % of the input in its own
// unit for sorting and blending. Numbers keep three significant digits, in
// the language's decimal separator, never a float's noise
// (28.000000000000004).
func plausibilitySpan(l *i18n.Locale, r traceability.Range) (span, per string) {
	num := func(f float64) string {
		s := strconv.FormatFloat(f, 'g', 3, 64)
		if strings.ContainsAny(s, "e") {
			s = strconv.FormatFloat(f, 'f', -1, 64)
		}
		dec, _ := l.Separators()
		return strings.Replace(s, ".", dec, 1)
	}
	pct := func(lo, hi float64) string { return l.T("pl_percent", num(lo*100)+"–"+num(hi*100)) }
	switch {
	case r.Check == traceability.CheckKindHarvest:
		return num(r.Min/100) + "–" + num(r.Max/100), l.T("pl_kg_ha_season") // mg/m² → kg/ha
	case r.InputKind == traceability.AnyKind:
		return pct(r.Min, r.Max), l.T("pl_same_unit")
	case r.OutputUnit == traceability.Millilitre && r.Uncounted:
		return num(r.Min*1000) + "–" + num(r.Max*1000), l.T("pl_l_hydrosol_kg") // ml/mg → l/kg
	case r.OutputUnit == traceability.Millilitre:
		return num(r.Min*1e6) + "–" + num(r.Max*1e6), l.T("pl_ml_oil_kg") // ml/mg → ml/kg: oils are a few to hundreds of ml per kg
	default:
		return pct(r.Min, r.Max), l.T("pl_input_mass")
	}
}

// upTo turns a span whose bounds are both the limit ("250–250 %") into
// what the limit says: "≤ 250 %".
var upTo = regexp.MustCompile(`(\d[\d.,\s]*)–(\d[\d.,\s]*\d|\d)`)

type plausibilityView struct {
	page.Page
	Harvests, Yields []plausibilityRow
	// Graph is the process graph (traceability.Graph) by input kind: what
	// each process makes from it.
	Graph []graphKind
}

// graphKind is a product kind of the graph with the steps that take it.
type graphKind struct {
	Kind, Name string
	Unit       traceability.Unit
	Crops      string // the crops it is made from, named
	Steps      []graphStep
}

// graphStep is one edge of the graph, named in the page's language.
type graphStep struct {
	Process, Output string
	OutputKind      string
	Typical, Limit  string
}

// PlausibilityPage answers GET /plausibility: the ranges that flag harvests
// and yields, with their sources — public, so cooperatives and consumers
// can read the rules.
func (h *Handlers) PlausibilityPage(c *gin.Context) {
	l := page.Locale(c)
	v := &plausibilityView{Page: h.d.Pages.Page(c, l.T("plausibility"))}
	for _, r := range traceability.PlausibilityTable() {
		switch r.Check {
		case traceability.CheckKindHarvest:
			row := plausibilityRow{Range: r, What: l.Kind(r.Crop)}
			row.Span, row.Per = plausibilitySpan(l, r)
			v.Harvests = append(v.Harvests, row)
		case traceability.CheckKindTransformation:
			what := l.Term("step", r.Process) + " · " + l.Kind(r.InputKind) + " → " + l.Kind(r.OutputKind)
			if r.InputKind == "*" {
				what = l.Term("step", r.Process) + " · " + l.T("any_kind")
			}
			row := plausibilityRow{Range: r, What: what}
			row.Span, row.Per = plausibilitySpan(l, r)
			v.Yields = append(v.Yields, row)
		}
	}
	g := traceability.Graph()
	for _, k := range g.Kinds {
		gk := graphKind{Kind: k.Kind, Name: l.Kind(k.Kind), Unit: k.Unit}
		names := make([]string, 0, len(k.Crops))
		for _, c := range k.Crops {
			names = append(names, l.Kind(c))
		}
		gk.Crops = strings.Join(names, l.T("list_separator"))
		for _, e := range g.Edges {
			if e.InputKind == k.Kind {
				span, per := plausibilitySpan(l, e)
				lim := e
				lim.Min = e.Limit
				limSpan, _ := plausibilitySpan(l, lim)
				gk.Steps = append(gk.Steps, graphStep{Process: l.Term("step", e.Process), Output: l.Kind(e.OutputKind), OutputKind: e.OutputKind,
					Typical: span + " " + per, Limit: upTo.ReplaceAllString(limSpan, "≤ $2")})
			}
		}
		v.Graph = append(v.Graph, gk)
	}
	h.d.Pages.Render(c, http.StatusOK, "backoffice/plausibility", v)
}
