package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"
)

// verify recomputes every lot's hash chain, checks that every lot is
// explained by its events (quantity + corrections = available + consumed +
// packed + shipped) and every shop balance by its movements, and names each
// lot or balance that is not: the first broken link of a tampered chain, the
// figures of a lot its events do not explain. Exit status 1 when anything
// is wrong.
func verify(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg := configFrom(getenv)
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.storeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx := context.Background()
	a, err := openApp(ctx, cfg, newLogger(io.Discard))
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer a.close()
	start := time.Now()
	last := time.Now()
	found, n, err := a.trace.Verify(ctx, func(checked int) {
		if time.Since(last) > time.Second {
			fmt.Fprintf(stderr, "\rchecked %d lots…", checked)
			last = time.Now()
		}
	})
	if err != nil {
		return errorf(stderr, "verify: %v", err)
	}
	for _, f := range found {
		if f.Seq > 0 {
			fmt.Fprintf(stdout, "TAMPERED lot %s at event %d: %s\n", f.Lot, f.Seq, f.Reason)
		} else {
			fmt.Fprintf(stdout, "NOT EXPLAINED lot %s: %s\n", f.Lot, f.Reason)
		}
	}
	fmt.Fprintf(stdout, "checked %d lots in %s: %d tampered or not explained by their events\n", n, time.Since(start).Round(time.Millisecond), len(found))
	gaps, balances, err := a.stock.Verify(ctx)
	if err != nil {
		return errorf(stderr, "verify shops: %v", err)
	}
	for _, g := range gaps {
		fmt.Fprintf(stdout, "STOCK shop %s lot %s: %s\n", g.Shop, g.Lot, g.Reason)
	}
	fmt.Fprintf(stdout, "checked %d shop balances against their movements: %d discrepancies\n", balances, len(gaps))
	if len(found) > 0 || len(gaps) > 0 {
		return 1
	}
	return 0
}
