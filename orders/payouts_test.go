package orders_test

import (
	"sync"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
)

func wantProblem(t testing.TB, err error, code problem.Code, field string) {
	t.Helper()
	p, ok := problem.As(err)
	if !ok || p.Code != code || p.Field != field {
		t.Fatalf("error %v, want %s on %q", err, code, field)
	}
}

func lineOf(t testing.TB, st orders.MemberStatements, member string) orders.MemberStatement {
	t.Helper()
	for _, m := range st.Members {
		if m.Member == member {
			return m
		}
	}
	t.Fatalf("%s has no line in %s: %+v", member, st.Month, st.Members)
	return orders.MemberStatement{}
}

// advanceWorld: Fatima takes a 500 MAD advance when she delivers 300 g in
// November; Aicha delivers 200 g with none. A few jars sell in November,
// more in December.
func advanceWorld(t *testing.T) (w *world, fatima, aicha string) {
	w = newWorld(t, time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC))
	fatima, aicha = w.member("Fatima Aït Ali", "female"), w.member("Aicha Oubella", "female")
	fresh := w.originLot(w.harvest(fatima, 300_000, 50_000), w.harvest(aicha, 200_000, 0))
	w.advance(time.Hour)
	dried := w.transform("drying", "saffron_dried", 100_000, fresh, int64(500_000))
	w.pack(dried, 100, 100, 0)
	w.advance(time.Hour)
	w.sell(2) // 240 MAD, 70 %: 168 MAD, 3:2 → Fatima 100.80 MAD
	w.advance(30 * 24 * time.Hour)
	if w.now().Format("2006-01") != "2025-12" {
		t.Fatal(w.now())
	}
	w.sell(10) // 840 MAD → Fatima 504 MAD
	return w, fatima, aicha
}

// TestAdvanceRepaidFirst: an advance at delivery is repaid from the
// member's first earnings before anything is owed to her.
func TestAdvanceRepaidFirst(t *testing.T) {
	w, fatima, aicha := advanceWorld(t)
	nov := w.statements("2025-11")
	checkStatements(t, nov)
	f := lineOf(t, nov, fatima)
	if f.Advances.Amount != 50_000 || f.Earnings.Amount != 10_080 || f.AdvanceRepaid.Amount != 10_080 || f.AdvanceLeft.Amount != 39_920 ||
		f.Balance.Amount != -39_920 || f.OpeningBalance.Amount != 0 {
		t.Fatalf("Fatima in November: %+v", f)
	}
	if a := lineOf(t, nov, aicha); a.Balance.Amount != 6_720 || a.AdvanceRepaid.Amount != 0 {
		t.Fatalf("Aicha in November: %+v", a)
	}
	rows := nov.CSV()
	if len(rows) != 1+len(nov.Members)+1 {
		t.Fatalf("%d CSV rows", len(rows))
	}
	for _, r := range rows {
		if len(r) != len(rows[0]) {
			t.Fatalf("CSV row %v has %d cells, header %d", r, len(r), len(rows[0]))
		}
	}
	for _, r := range rows[1:] {
		if r[2] == fatima && (r[5] != "300.000" || r[10] != "100.80" || r[12] != "500.00" || r[15] != "-399.20" || r[17] != "MAD") {
			t.Fatalf("Fatima's CSV row %v", r)
		}
	}
	if total := rows[len(rows)-1]; total[3] != "total" || total[15] != "-332.00" {
		t.Fatalf("total row %v", total)
	}
	dec := w.statements("2025-12")
	checkStatements(t, dec)
	f = lineOf(t, dec, fatima)
	if f.OpeningBalance.Amount != -39_920 || f.Earnings.Amount != 50_400 || f.Advances.Amount != 0 || f.AdvanceRepaid.Amount != 39_920 ||
		f.AdvanceLeft.Amount != 0 || f.Balance.Amount != 10_480 || f.Grams.Amount != 0 {
		t.Fatalf("Fatima in December: %+v", f)
	}
	slip := w.must(w.pay.MemberSlip(w.ctx, w.manager, w.coop, "2025-11", fatima)).(orders.MemberSlip)
	if len(slip.Deliveries) != 1 || slip.Deliveries[0].Advance == nil || slip.Deliveries[0].Advance.Amount != 50_000 || len(slip.Entries) != 1 ||
		slip.Entries[0].Earnings != 10_080 || slip.Statement.Balance.Amount != -39_920 {
		t.Fatalf("Fatima's November slip: %+v", slip)
	}
	if _, err := w.pay.MemberSlip(w.ctx, w.manager, w.coop, "2025-11", "mbr_nobody"); err == nil {
		t.Fatal("a slip for someone who is not a member")
	}
}

// TestPayoutRunPaysOnce: two payout runs started together pay each
// positive balance once; the same Idempotency-Key returns the same run; a
// payout above a balance is refused naming the line, nothing written.
func TestPayoutRunPaysOnce(t *testing.T) {
	w, fatima, aicha := advanceWorld(t)
	before := w.statements("2025-12")
	owed := map[string]int64{fatima: lineOf(t, before, fatima).Balance.Amount, aicha: lineOf(t, before, aicha).Balance.Amount}
	if owed[fatima] <= 0 || owed[aicha] <= 0 {
		t.Fatalf("balances %v", owed)
	}

	// Refused runs write nothing.
	_, _, err := w.pay.PayMembers(w.ctx, w.manager, w.coop, orders.NewPayoutRun{Method: "cash",
		Lines: []orders.PayoutRequest{{Member: fatima, Amount: w.mad(owed[fatima] + 1)}}}, "")
	wantProblem(t, err, problem.Conflict, "lines[0].amount")
	_, _, err = w.pay.PayMembers(w.ctx, w.manager, w.coop, orders.NewPayoutRun{Method: "cheque"}, "")
	wantProblem(t, err, problem.Invalid, "method")
	_, _, err = w.pay.PayMembers(w.ctx, w.manager, w.coop, orders.NewPayoutRun{Method: "cash",
		Lines: []orders.PayoutRequest{{Member: "mbr_stranger", Amount: w.mad(100)}}}, "")
	wantProblem(t, err, problem.NotFound, "lines[0].member")
	_, _, err = w.pay.PayMembers(w.ctx, w.manager, w.coop, orders.NewPayoutRun{Method: "cash",
		Lines: []orders.PayoutRequest{{Member: fatima, Amount: w.mad(0)}}}, "")
	wantProblem(t, err, problem.Invalid, "lines[0].amount.amount")
	other := access.Actor{UserID: "o", Email: "o@other", Role: access.CoopManager, Org: "OTHER"}
	if _, _, err := w.pay.PayMembers(w.ctx, other, w.coop, orders.NewPayoutRun{Method: "cash"}, ""); !access.IsForbidden(err) {
		t.Fatalf("another cooperative's manager: %v", err)
	}
	if runs := w.must(w.pay.PayoutRuns(w.ctx, w.manager, w.coop)).([]orders.MemberPayoutRun); len(runs) != 0 {
		t.Fatalf("refused runs recorded: %+v", runs)
	}

	// Two runs at once, under different keys: one pays, the other finds
	// nothing left to pay.
	type result struct {
		run orders.MemberPayoutRun
		err error
	}
	race := func(keys ...string) []result {
		out := make([]result, len(keys))
		var wg sync.WaitGroup
		for i, k := range keys {
			wg.Go(func() {
				run, _, err := w.pay.PayMembers(w.ctx, w.manager, w.coop, orders.NewPayoutRun{Method: "transfer"}, k)
				out[i] = result{run, err}
			})
		}
		wg.Wait()
		return out
	}
	res := race("run-a", "run-b")
	var paid []orders.MemberPayoutRun
	for _, r := range res {
		switch {
		case r.err == nil:
			paid = append(paid, r.run)
		case problem.CodeOf(r.err) != problem.Conflict:
			t.Fatalf("concurrent run: %v", r.err)
		}
	}
	if len(paid) != 1 || len(paid[0].Lines) != 2 || paid[0].Total.Amount != owed[fatima]+owed[aicha] {
		t.Fatalf("runs %+v (results %+v), owed %v", paid, res, owed)
	}
	after := w.statements("2025-12")
	checkStatements(t, after)
	for m, amount := range owed {
		if l := lineOf(t, after, m); l.Balance.Amount != 0 || l.Payouts.Amount != amount {
			t.Fatalf("after the run %s: %+v", l.Name, l)
		}
	}

	// More sales; the same key twice at once records one run.
	w.advance(time.Hour)
	w.sell(5)
	res = race("run-c", "run-c")
	if res[0].err != nil || res[1].err != nil || res[0].run.ID != res[1].run.ID {
		t.Fatalf("same key: %+v", res)
	}
	if runs := w.must(w.pay.PayoutRuns(w.ctx, w.manager, w.coop)).([]orders.MemberPayoutRun); len(runs) != 2 {
		t.Fatalf("%d runs recorded", len(runs))
	}
	_, _, err = w.pay.PayMembers(w.ctx, w.manager, w.coop, orders.NewPayoutRun{Method: "cash"}, "run-c")
	wantProblem(t, err, problem.Unprocessable, "")
	again, replay, err := w.pay.PayMembers(w.ctx, w.manager, w.coop, orders.NewPayoutRun{Method: "transfer"}, "run-c")
	if err != nil || !replay || again.ID != res[0].run.ID {
		t.Fatalf("replay: %v %v", replay, err)
	}
	for _, l := range w.statements("2025-12").Members {
		if l.Balance.Amount != 0 {
			t.Fatalf("%s is still owed %d", l.Name, l.Balance.Amount)
		}
	}

	// The retention cannot start on or before a day members were paid.
	_, err = w.pay.SetRetention(w.ctx, w.manager, w.coop, "10", w.now().Format(time.DateOnly))
	wantProblem(t, err, problem.Conflict, "from")
	w.must(w.pay.SetRetention(w.ctx, w.manager, w.coop, "10", w.now().AddDate(0, 0, 1).Format(time.DateOnly)))
}

func (w *world) mad(n int64) catalog.Money { return catalog.Money{Amount: n, Currency: "MAD"} }

// TestTermsRefuseBadInput: retention outside 0–100 %, a rate of zero or
// less, a currency that is the cooperative's own: 400 naming the field, and
// nothing recorded.
func TestTermsRefuseBadInput(t *testing.T) {
	w := newWorld(t, time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC))
	for _, tc := range []struct{ percent, from, field string }{
		{"101", "2025-11-01", "percent"}, {"-1", "2025-11-01", "percent"}, {"100.5", "2025-11-01", "percent"},
		{"7.125", "2025-11-01", "percent"}, {"dix", "2025-11-01", "percent"}, {"", "2025-11-01", "percent"},
		{"10", "01/11/2025", "from"}, {"10", "", "from"},
	} {
		_, err := w.pay.SetRetention(w.ctx, w.manager, w.coop, tc.percent, tc.from)
		wantProblem(t, err, problem.Invalid, tc.field)
	}
	for _, tc := range []struct{ month, currency, rate, field string }{
		{"2025-11", "EUR", "0", "rate"}, {"2025-11", "EUR", "-10.8", "rate"}, {"2025-11", "EUR", "0.000", "rate"},
		{"2025-11", "EUR", "1e3", "rate"}, {"2025-11", "EUR", "10.123456789", "rate"},
		{"2025-11", "MAD", "1", "currency"}, {"2025-11", "USD", "1", "currency"}, {"11-2025", "EUR", "10", "month"},
	} {
		_, err := w.pay.SetRate(w.ctx, w.manager, w.coop, tc.month, tc.currency, tc.rate)
		wantProblem(t, err, problem.Invalid, tc.field)
	}
	terms := w.must(w.pay.Terms(w.ctx, w.manager, w.coop)).(orders.MemberTerms)
	if len(terms.Retention) != 0 || len(terms.Rates) != 0 {
		t.Fatalf("refused terms recorded: %+v", terms)
	}
	for _, ok := range []string{"0", "100", "12,5"} {
		w.must(w.pay.SetRetention(w.ctx, w.manager, w.coop, ok, "2025-10-01"))
	}
	terms = w.must(w.pay.Terms(w.ctx, w.manager, w.coop)).(orders.MemberTerms)
	if len(terms.Retention) != 1 || terms.Retention[0].BasisPoints != 1250 || terms.Retention[0].Percent != "12.5" {
		t.Fatalf("retention from the same day replaced: %+v", terms.Retention)
	}
	w.must(w.pay.SetRate(w.ctx, w.manager, w.coop, "2025-11", "eur", "10,85"))
	_, err := w.pay.SetRate(w.ctx, w.manager, w.coop, "2025-11", "EUR", "10.9")
	wantProblem(t, err, problem.Conflict, "rate")
	auditor := access.Actor{UserID: "a", Email: "a@audit", Role: access.Auditor, Scope: []string{w.coop}}
	if _, err := w.pay.SetRetention(w.ctx, auditor, w.coop, "5", "2026-01-01"); !access.IsForbidden(err) {
		t.Fatalf("an auditor sets the retention: %v", err)
	}
	if _, err := w.pay.MemberStatements(w.ctx, auditor, w.coop, "2025-11"); err != nil {
		t.Fatalf("an auditor reads the statements: %v", err)
	}
	_, err = w.pay.MemberStatements(w.ctx, w.manager, w.coop, "2026-01")
	wantProblem(t, err, problem.Invalid, "month")
}

// TestImpactMatchesMemberStatements: the season's impact report is the sum
// of the members' monthly statements, and shows the women's share of what
// was paid.
func TestImpactMatchesMemberStatements(t *testing.T) {
	w, fatima, _ := advanceWorld(t)
	brahim := w.member("Brahim Idbelkas", "male")
	lot := w.originLot(w.harvest(brahim, 150_000, 20_000))
	dried := w.transform("drying", "saffron_dried", 30_000, lot, int64(150_000))
	w.pack(dried, 30, 0, 30)
	w.order(4)
	w.must(w.pay.SetRate(w.ctx, w.manager, w.coop, "2025-12", "EUR", "10.9"))
	if _, _, err := w.pay.PayMembers(w.ctx, w.manager, w.coop, orders.NewPayoutRun{Method: "cash",
		Lines: []orders.PayoutRequest{{Member: fatima, Amount: w.mad(5_000)}}}, ""); err != nil {
		t.Fatal(err)
	}

	rep := w.must(w.pay.Impact(w.ctx, w.admin, 2025, w.coop)).(orders.ImpactReport)
	var earnings, retention, paid, women, advances int64
	active := map[string]bool{}
	for _, month := range []string{"2025-09", "2025-10", "2025-11", "2025-12"} {
		st := w.statements(month)
		checkStatements(t, st)
		for _, m := range st.Members {
			earnings += m.Earnings.Amount
			retention += m.Retention.Amount
			paid += m.Advances.Amount + m.Payouts.Amount
			advances += m.Advances.Amount
			if m.Gender == "female" {
				women += m.Advances.Amount + m.Payouts.Amount
			}
			if m.Deliveries > 0 {
				active[m.Member] = true
			}
		}
	}
	f := rep.ImpactFigures
	if f.Earnings.Amount != earnings || f.Retention.Amount != retention || f.PaidToMembers.Amount != paid || f.PaidToWomen.Amount != women ||
		f.MemberAdvances.Paid.Amount != advances || f.ActiveMembers.Total != len(active) {
		t.Fatalf("impact %+v\nstatements: earnings %d, retention %d, paid %d, women %d, advances %d, active %d", f, earnings, retention, paid, women, advances, len(active))
	}
	if paid != 50_000+20_000+5_000 || women != 55_000 || f.WomenShare != (traceability.Fraction{Numerator: 55_000, Denominator: 75_000}) || f.WomenPerMille != 733 {
		t.Fatalf("paid %d, to women %d: %+v %d", paid, women, f.WomenShare, f.WomenPerMille)
	}
	if f.ActiveMembers.Women != 2 || f.ActiveMembers.Men != 1 || f.Grams.Total.Amount != 650_000 || f.Grams.Women.Amount != 500_000 {
		t.Fatalf("active members %+v, grams %+v", f.ActiveMembers, f.Grams)
	}
	var units int64
	for _, s := range f.Sales {
		units += s.Units
	}
	if units != 2+10+4 || len(f.ProducerShare) != 2 || f.ProducerShare[0].BasisPoints != 7000 {
		t.Fatalf("sales %+v, producer share %+v", f.Sales, f.ProducerShare)
	}
	if len(f.Months) != 4 || f.Months[3].PaidToMembers.Amount != 20_000+5_000 {
		t.Fatalf("months %+v", f.Months)
	}
	if rows := rep.CSV(); len(rows) != 3 || len(rows[1]) != len(rows[0]) || rows[1][15] != "750.00" || rows[1][17] != "733" {
		t.Fatalf("impact CSV %v", rows)
	}
	// The season's statements: the same figures, and December's balances.
	season := w.must(w.pay.MemberSeasonStatements(w.ctx, w.manager, w.coop, 2025)).(orders.MemberStatements)
	checkStatements(t, season)
	dec := w.statements("2025-12")
	if season.From != "2025-09" || season.To != "2025-12" || season.Totals.Earnings.Amount != earnings || season.Totals.Balance != dec.Totals.Balance ||
		season.Totals.Advances.Amount+season.Totals.Payouts.Amount != paid {
		t.Fatalf("season %s–%s totals %+v; December %+v", season.From, season.To, season.Totals, dec.Totals)
	}
	// The network's report (one cooperative here) says the same.
	all := w.must(w.pay.Impact(w.ctx, w.admin, 2025, "")).(orders.ImpactReport)
	if all.PaidToMembers != f.PaidToMembers || all.Earnings != f.Earnings || len(all.Cooperatives) != 1 {
		t.Fatalf("network report %+v", all.ImpactFigures)
	}
	// Who may read it.
	if _, err := w.pay.Impact(w.ctx, w.manager, 2025, w.coop); !access.IsForbidden(err) {
		t.Fatalf("a cooperative manager reads the impact report: %v", err)
	}
	auditor := access.Actor{UserID: "a", Email: "a@audit", Role: access.Auditor, Scope: []string{w.coop}}
	if rep, err := w.pay.Impact(w.ctx, auditor, 2025, ""); err != nil || rep.PaidToMembers != f.PaidToMembers {
		t.Fatalf("an auditor of the cooperative: %v", err)
	}
	outsider := access.Actor{UserID: "b", Email: "b@audit", Role: access.Auditor, Scope: []string{"OTHER"}}
	if _, err := w.pay.Impact(w.ctx, outsider, 2025, w.coop); !access.IsForbidden(err) {
		t.Fatalf("an auditor of another cooperative: %v", err)
	}
	_, err := w.pay.Impact(w.ctx, w.admin, 2031, "")
	wantProblem(t, err, problem.Invalid, "season")
}
