package backoffice

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// The network's impact report of a season (admin and auditors), with
// server-drawn SVG bars from the report's monthly series: no script.

// bar is one bar of a chart, in the chart's own coordinates.
type bar struct {
	X, Y, W, H   int
	CX           int // the bar's middle, where its label is centred
	Label, Title string
	Inner        int // height of the part drawn over it (women's), from the base
	InnerY       int
}

// chart is a bar chart of one series per month.
type chart struct {
	Title, Legend, InnerLegend string
	Bars                       []bar
	Width, Height, Base        int
}

const (
	chartHeight = 160
	chartBar    = 28
	chartGap    = 10
)

// barChart draws values (with an inner part each, or nil) as bars scaled
// to the largest.
func barChart(title, legend, innerLegend string, labels []string, values, inner []int64, text func(int64) string) chart {
	c := chart{Title: title, Legend: legend, InnerLegend: innerLegend, Height: chartHeight + 30, Base: chartHeight}
	var top int64 = 1
	for _, v := range values {
		top = max(top, v)
	}
	for i, v := range values {
		h := int(max(v, 0) * chartHeight / top)
		b := bar{X: chartGap + i*(chartBar+chartGap), CX: chartGap + i*(chartBar+chartGap) + chartBar/2, Y: chartHeight - h, W: chartBar, H: h, Label: labels[i], Title: labels[i] + " · " + text(v)}
		if inner != nil {
			b.Inner = int(max(inner[i], 0) * chartHeight / top)
			b.InnerY = chartHeight - b.Inner
			b.Title += " · " + innerLegend + " " + text(inner[i])
		}
		c.Bars = append(c.Bars, b)
	}
	c.Width = chartGap + len(values)*(chartBar+chartGap)
	return c
}

type impactRow struct {
	Code, Name, Active, Women, Grams, Paid, PaidWomen, WomenShare string
}

type channelRow struct{ Channel, Source, Units, Gross, Share string }

type impactView struct {
	page.Page
	Season, Prev, Next         int
	SeasonLabel                string // 2025–2026
	Cooperative                string
	From, To, CSVURL           string
	Figures                    impactRow
	Men                        int
	GramsWomen                 string
	Earnings, Retention        string
	AdvPaid, AdvRepaid, AdvOut string
	Fund                       []string
	ProducerShares             []string
	Pending                    []string
	Channels                   []channelRow
	Cooperatives               []impactRow
	Sales                      []chart
	Payouts                    chart
	WomenPerMille, WomenWidth  int
}

func perMille(l *i18n.Locale, n int64) string {
	return l.T("imp_percent", strconv.FormatInt(n/10, 10)+"."+strconv.FormatInt(n%10, 10))
}

func impactRowOf(l *i18n.Locale, f orders.ImpactFigures) impactRow {
	cur := f.PaidToMembers.Currency
	return impactRow{Code: f.Cooperative, Name: f.Name, Active: l.Number(int64(f.ActiveMembers.Total)), Women: l.Number(int64(f.ActiveMembers.Women)),
		Grams: l.Quantity(f.Grams.Total.Amount, traceability.Milligram), Paid: l.Money(f.PaidToMembers.Amount, cur),
		PaidWomen: l.Money(f.PaidToWomen.Amount, cur), WomenShare: perMille(l, f.WomenPerMille)}
}

// ImpactPage answers GET /impact?season=YYYY[&cooperative=CODE] and
// /impact.csv: the season's impact report for the admin and auditors.
func (h *Handlers) ImpactPage(c *gin.Context) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	season := h.d.Audits.CurrentSeason()
	if s := c.Query("season"); s != "" {
		season, _ = strconv.Atoi(strings.TrimSpace(s)) // not a number: season 0, refused naming "season"
	}
	coop := c.Query("cooperative")
	rep, err := h.d.MemberPay.Impact(ctx, actor, season, coop)
	if err != nil {
		page.Fail(c, err)
		return
	}
	if strings.HasSuffix(c.Request.URL.Path, ".csv") {
		rows := rep.CSV()
		rows[0] = strings.Split(l.T("csv.impact"), ",")
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="impact-`+strconv.Itoa(season)+`.csv"`)
		_ = csv.NewWriter(c.Writer).WriteAll(rows)
		return
	}
	f := rep.ImpactFigures
	cur := f.PaidToMembers.Currency
	q := "?season=" + strconv.Itoa(season)
	if coop != "" {
		q += "&cooperative=" + esc(coop)
	}
	v := &impactView{Page: h.d.Pages.Page(c, l.T("impact_title")), Season: season, SeasonLabel: strconv.Itoa(season) + "–" + strconv.Itoa(season+1), Prev: season - 1, Cooperative: rep.Name, From: rep.From, To: rep.To,
		CSVURL: "/impact.csv" + q, Figures: impactRowOf(l, f), Men: f.ActiveMembers.Men,
		GramsWomen: l.Quantity(f.Grams.Women.Amount, traceability.Milligram),
		Earnings:   l.Money(f.Earnings.Amount, cur), Retention: l.Money(f.Retention.Amount, cur),
		AdvPaid: l.Money(f.MemberAdvances.Paid.Amount, cur), AdvRepaid: l.Money(f.MemberAdvances.Repaid.Amount, cur),
		AdvOut: l.Money(f.MemberAdvances.Outstanding.Amount, cur), WomenPerMille: int(f.WomenPerMille), WomenWidth: int(f.WomenPerMille * 300 / 1000)}
	if season < h.d.Audits.CurrentSeason() {
		v.Next = season + 1
	}
	for _, x := range f.RevolvingFund {
		v.Fund = append(v.Fund, l.Money(x.Outstanding, x.Currency))
	}
	for _, p := range f.ProducerShare {
		v.ProducerShares = append(v.ProducerShares, p.Currency+" "+perMille(l, p.BasisPoints/10))
	}
	for _, p := range f.Pending {
		v.Pending = append(v.Pending, l.Money(p.Amount, p.Currency))
	}
	for _, s := range f.Sales {
		v.Channels = append(v.Channels, channelRow{Channel: s.Channel, Source: l.Term("pay_source", s.Source), Units: l.Number(s.Units),
			Gross: l.Money(s.Gross, s.Currency), Share: l.Money(s.ProducerShare, s.Currency)})
	}
	for _, cf := range rep.Cooperatives {
		v.Cooperatives = append(v.Cooperatives, impactRowOf(l, cf))
	}
	// The series: sales per month in each currency sold; what was paid to
	// members per month with the women's part.
	var labels []string
	var paid, women []int64
	currencies := map[string][]int64{}
	var order []string
	for i, m := range f.Months {
		labels = append(labels, m.Month[5:])
		paid = append(paid, m.PaidToMembers.Amount)
		women = append(women, m.PaidToWomen.Amount)
		for _, s := range m.Sales {
			if currencies[s.Currency] == nil {
				currencies[s.Currency] = make([]int64, len(f.Months))
				order = append(order, s.Currency)
			}
			currencies[s.Currency][i] = s.Amount
		}
	}
	for _, cu := range order {
		v.Sales = append(v.Sales, barChart(l.T("imp_chart_sales", cu), l.T("imp_sales"), "", labels, currencies[cu], nil,
			func(n int64) string { return l.Money(n, cu) }))
	}
	v.Payouts = barChart(l.T("imp_chart_paid"), l.T("imp_paid"), l.T("imp_paid_women"), labels, paid, women,
		func(n int64) string { return l.Money(n, cur) })
	h.d.Pages.Render(c, http.StatusOK, "backoffice/impact", v)
}
