package main

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/accounts"
)

// TestDemoSaffronPayPageHasNumbers seeds the demo and reads the saffron
// cooperative's members' pay of this month, as its pay page does: the
// till's sales are divided among the members, to the centime, and the
// advances paid at delivery are being repaid from them.
func TestDemoSaffronPayPageHasNumbers(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"seed", "--data", dir}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("seed: %d %s", code, errOut.String())
	}
	ctx := context.Background()
	a, err := openApp(ctx, config{DataDir: dir}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	st, err := orders.NewMemberPay(a.orders, a.trace).MemberStatements(ctx, accounts.System, "SIROUA-SAFRAN", time.Now().UTC().Format("2006-01"))
	if err != nil {
		t.Fatal(err)
	}
	var repaid int64
	for _, m := range st.Members {
		repaid += m.AdvanceRepaid.Amount
	}
	if st.ProducerShare.Amount <= 0 || st.Retention.Amount <= 0 || st.Totals.Earnings.Amount+st.Unassigned.Amount != st.ProducerShare.Amount ||
		repaid <= 0 || len(st.RetentionRules) != 1 {
		t.Fatalf("the demo's pay page would show %+v", st)
	}
}
