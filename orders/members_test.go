package orders_test

import (
	"slices"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
)

// checkEntry fails unless an entry's parts add up: the members' earnings
// (+ unassigned) to its producer share, their retention to its retention,
// and so members' amounts + retention + unassigned to the producer share.
func checkEntry(t testing.TB, x orders.EntrySplit) {
	t.Helper()
	var earned, kept, net int64
	for _, p := range x.Parts {
		earned += p.Earnings
		kept += p.Retention
		net += p.Earnings - p.Retention
		if (x.ProducerShare > 0 && (p.Earnings < 0 || p.Retention < 0 || p.Retention > p.Earnings)) ||
			(x.ProducerShare < 0 && (p.Earnings > 0 || p.Retention > 0 || p.Retention < p.Earnings)) {
			t.Fatalf("entry %s: part %+v has the wrong sign", x.Entry, p)
		}
	}
	if earned+x.Unassigned != x.ProducerShare || kept != x.Retention || net+x.Retention+x.Unassigned != x.ProducerShare {
		t.Fatalf("entry %s does not add up: earnings %d + unassigned %d, retention %d (parts %d), members %d; producer share %d",
			x.Entry, earned, x.Unassigned, x.Retention, kept, net, x.ProducerShare)
	}
	// The retention is the rate of what went to members, rounded down.
	assigned := sign(x.ProducerShare) * (x.ProducerShare - x.Unassigned)
	if x.Retention*sign(x.ProducerShare) != assigned*x.RetentionBasisPoints/10_000 {
		t.Fatalf("entry %s: retention %d at %d bp of %d", x.Entry, x.Retention, x.RetentionBasisPoints, x.ProducerShare)
	}
}

func sign(n int64) int64 {
	if n < 0 {
		return -1
	}
	return 1
}

// checkStatements fails unless every member's line reconciles and the
// lines add up to the statement's totals.
func checkStatements(t testing.TB, st orders.MemberStatements) {
	t.Helper()
	var earnings, retention int64
	for _, m := range st.Members {
		if m.Balance.Amount != m.OpeningBalance.Amount+m.Earnings.Amount-m.Retention.Amount-m.Advances.Amount-m.Payouts.Amount {
			t.Fatalf("%s (%s): balance %d ≠ opening %d + earnings %d − retention %d − advances %d − payouts %d", m.Name, st.Month,
				m.Balance.Amount, m.OpeningBalance.Amount, m.Earnings.Amount, m.Retention.Amount, m.Advances.Amount, m.Payouts.Amount)
		}
		if m.Earnings.Currency != st.Currency || m.Balance.Currency != st.Currency {
			t.Fatalf("%s: amounts in %s/%s, statement in %s", m.Name, m.Earnings.Currency, m.Balance.Currency, st.Currency)
		}
		earnings += m.Earnings.Amount
		retention += m.Retention.Amount
	}
	if earnings+st.Unassigned.Amount != st.ProducerShare.Amount || retention != st.Retention.Amount {
		t.Fatalf("%s: members' earnings %d + unassigned %d ≠ producer share %d, or retention %d ≠ %d", st.Month,
			earnings, st.Unassigned.Amount, st.ProducerShare.Amount, retention, st.Retention.Amount)
	}
	for _, c := range st.ByCurrency {
		if c.Members+c.Retention+c.Unassigned != c.ProducerShare {
			t.Fatalf("%s %s: members %d + retention %d + unassigned %d ≠ producer share %d", st.Month, c.Currency, c.Members, c.Retention, c.Unassigned, c.ProducerShare)
		}
	}
}

// TestMembersPaidForWhatTheyBrought is the case: three members
// deliver 300, 200 and 100 g of saffron into one lot; it is dried, blended
// with another member's dried lot, packed and sold through the till and
// online, with a refund and a return. Every entry gives each member exactly
// the largest-remainder part of its producer share by 3:2:1:1 — their fresh
// grams — and the parts add up to the cooperative's producer share to the
// centime, in the cooperative's own statement as in the members'.
func TestMembersPaidForWhatTheyBrought(t *testing.T) {
	w := newWorld(t, time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC))
	fatima, aicha, brahim, itto := w.member("Fatima Aït Ali", "female"), w.member("Aicha Oubella", "female"),
		w.member("Brahim Idbelkas", "male"), w.member("Itto Amellal", "female")
	fresh := w.originLot(w.harvest(fatima, 300_000, 0), w.harvest(aicha, 200_000, 0), w.harvest(brahim, 100_000, 0))
	other := w.originLot(w.harvest(itto, 100_000, 0))
	w.advance(time.Hour)
	dried := w.transform("drying", "saffron_dried", 120_000, fresh, int64(600_000))
	dried2 := w.transform("drying", "saffron_dried", 20_000, other, int64(100_000))
	blend := w.transform("blending", "saffron_dried", 140_000, dried, int64(120_000), dried2, int64(20_000))
	jars := w.pack(blend, 140, 60, 60)
	w.must(w.pay.SetRetention(w.ctx, w.manager, w.coop, "7.5", "2025-11-01"))

	w.advance(time.Hour)
	sales := []int64{3, 7, 1, 11}
	var tillSales []string
	for _, n := range sales {
		tillSales = append(tillSales, w.sell(n).ID)
		w.advance(10 * time.Minute)
	}
	first := w.order(2)
	second := w.order(5)
	w.advance(time.Hour)
	w.refund(second)
	sale, err := w.stock.Sale(w.ctx, w.till, "TAROUDANNT", tillSales[1])
	if err != nil {
		t.Fatal(err)
	}
	w.giveBack(sale, jars.Code, 2)

	month := "2025-11"
	entries := w.entries(month)
	if len(entries) != 4+2+1+1 {
		t.Fatalf("%d entries: %+v", len(entries), entries)
	}
	byEntry := map[string]orders.EntrySplit{}
	perCurrency := map[string]int64{}
	for _, x := range entries {
		checkEntry(t, x)
		byEntry[x.Entry] = x
		perCurrency[x.Currency] += x.ProducerShare
		// Exactly 3:2:1:1 — the members' fresh grams through drying,
		// blending and packing.
		abs := max(x.ProducerShare, -x.ProducerShare)
		want := traceability.SplitLargestRemainder(abs, []int64{3, 2, 1, 1})
		got := map[string]int64{}
		for _, p := range x.Parts {
			got[p.Member] = p.Earnings * sign(x.ProducerShare)
		}
		if x.Unassigned != 0 || got[fatima] != want[0] || got[aicha] != want[1] || got[brahim] != want[2] || got[itto] != want[3] {
			t.Fatalf("entry %s (%d): parts %v, want %v", x.Entry, x.ProducerShare, got, want)
		}
		if x.RetentionBasisPoints != 750 {
			t.Fatalf("entry %s: retention %d bp", x.Entry, x.RetentionBasisPoints)
		}
	}
	// A refund reverses exactly what its sale gave.
	sold, back := byEntry[orders.EntrySale+"|"+second.ID+"|SAF-1G"], byEntry[orders.EntryRefund+"|"+second.ID+"|SAF-1G"]
	for i := range sold.Parts {
		if back.Parts[i].Member != sold.Parts[i].Member || back.Parts[i].Earnings != -sold.Parts[i].Earnings || back.Parts[i].Retention != -sold.Parts[i].Retention {
			t.Fatalf("refund %+v does not reverse sale %+v", back.Parts, sold.Parts)
		}
	}
	// The cooperative's settlement says the same producer share.
	coopSt, err := w.orders.Statement(w.ctx, w.manager, w.coop, month)
	if err != nil {
		t.Fatal(err)
	}
	for _, tot := range coopSt.Totals {
		if tot.ProducerShare != perCurrency[tot.Currency] {
			t.Fatalf("%s: settlement producer share %d, members' entries %d", tot.Currency, tot.ProducerShare, perCurrency[tot.Currency])
		}
	}

	// Until the month's EUR rate is recorded, online earnings are pending.
	st := w.statements(month)
	checkStatements(t, st)
	if len(st.Pending) != 1 || st.Pending[0].Currency != "EUR" || st.Pending[0].Amount != perCurrency["EUR"] {
		t.Fatalf("pending %+v, EUR producer share %d", st.Pending, perCurrency["EUR"])
	}
	if st.ProducerShare.Amount != perCurrency["MAD"] {
		t.Fatalf("MAD producer share %d, entries %d", st.ProducerShare.Amount, perCurrency["MAD"])
	}
	w.must(w.pay.SetRate(w.ctx, w.manager, w.coop, month, "EUR", "10.8545"))
	st = w.statements(month)
	checkStatements(t, st)
	if len(st.Pending) != 0 {
		t.Fatalf("still pending: %+v", st.Pending)
	}
	// 2 jars online at 14.50 EUR, 70 %: 2030 cents = 22 034.635 centimes → 22 035.
	rate := orders.Rate{Units: 108545, Scale: 4}
	if want := perCurrency["MAD"] + rate.Convert(perCurrency["EUR"]); st.ProducerShare.Amount != want || perCurrency["EUR"] != 2030 {
		t.Fatalf("producer share %d MAD, want %d (EUR %d)", st.ProducerShare.Amount, want, perCurrency["EUR"])
	}
	if len(st.Members) != 4 {
		t.Fatalf("%d members: %+v", len(st.Members), st.Members)
	}
	lines := map[string]orders.MemberStatement{}
	for _, m := range st.Members {
		lines[m.Member] = m
		if !slices.Equal(m.Lots, []string{jars.Code}) {
			t.Fatalf("%s lots %v", m.Name, m.Lots)
		}
	}
	if lines[fatima].Grams.Amount != 300_000 || lines[itto].Grams.Amount != 100_000 || lines[fatima].Deliveries != 1 {
		t.Fatalf("grams delivered: %+v", lines)
	}
	units := map[string]int64{}
	for _, s := range lines[brahim].Sold {
		units[s.Channel] += s.Units
	}
	if units["TAROUDANNT"] != 3+7+1+11-2 || units["EU-PLATFORM"] != 2 {
		t.Fatalf("units sold from Brahim's lots: %v", units)
	}
	// The month's EUR rate cannot change once recorded; the same rate again
	// changes nothing.
	w.must(w.pay.SetRate(w.ctx, w.manager, w.coop, month, "EUR", "10.85450"))
	_ = first
}
