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
	problems, err := verifyAll(ctx, a, stdout, stderr)
	if err != nil {
		return errorf(stderr, "verify: %v", err)
	}
	if problems > 0 {
		return 1
	}
	return 0
}

// verifyAll runs every check of the register and prints what it finds: each
// lot's hash chain and balance, every lot and harvest explained by the
// lots and harvests around it, every shop balance by its movements and every
// movement by its sale, transfer, receipt or order, every order by the
// ledger. It returns how many problems it found.
func verifyAll(ctx context.Context, a *app, stdout, stderr io.Writer) (int, error) {
	start := time.Now()
	last := time.Now()
	found, n, err := a.trace.Verify(ctx, func(checked int) {
		if time.Since(last) > time.Second {
			fmt.Fprintf(stderr, "\rchecked %d lots…", checked)
			last = time.Now()
		}
	})
	if err != nil {
		return 0, err
	}
	for _, f := range found {
		if f.Seq > 0 {
			fmt.Fprintf(stdout, "TAMPERED lot %s at event %d: %s\n", f.Lot, f.Seq, f.Reason)
		} else {
			fmt.Fprintf(stdout, "NOT EXPLAINED lot %s: %s\n", f.Lot, f.Reason)
		}
	}
	fmt.Fprintf(stdout, "checked %d lots in %s: %d tampered or not explained by their events\n", n, time.Since(start).Round(time.Millisecond), len(found))
	links, err := a.trace.VerifyLinks(ctx)
	if err != nil {
		return 0, err
	}
	for _, f := range links {
		fmt.Fprintf(stdout, "UNEXPLAINED lot %s: %s\n", f.Lot, f.Reason)
	}
	fmt.Fprintf(stdout, "checked lot inputs, outputs, harvests and season totals: %d unexplained\n", len(links))
	gaps, balances, err := a.stock.Verify(ctx)
	if err != nil {
		return 0, fmt.Errorf("shops: %w", err)
	}
	more, err := a.stock.VerifyLinks(ctx)
	if err != nil {
		return 0, fmt.Errorf("shops: %w", err)
	}
	gaps = append(gaps, more...)
	for _, g := range gaps {
		fmt.Fprintf(stdout, "STOCK shop %s lot %s: %s\n", g.Shop, g.Lot, g.Reason)
	}
	fmt.Fprintf(stdout, "checked %d shop balances against their movements, sales, transfers, receipts and shelves: %d discrepancies\n", balances, len(gaps))
	orderGaps, err := a.orders.Verify(ctx)
	if err != nil {
		return 0, fmt.Errorf("orders: %w", err)
	}
	for _, g := range orderGaps {
		fmt.Fprintf(stdout, "ORDER %s: %s\n", g.Order, g.Reason)
	}
	fmt.Fprintf(stdout, "checked orders against the ledger and reservations: %d discrepancies\n", len(orderGaps))
	return len(found) + len(links) + len(gaps) + len(orderGaps), nil
}
