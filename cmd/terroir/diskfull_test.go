package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
)

// TestDiskFull runs the register on a small tmpfs, fills the disk while
// tills sell, and checks: the write that does not fit answers Unavailable
// (503) with nothing of it written, later writes are refused at once,
// reads keep working, Writable says not ready; once space returns writes
// resume, every acknowledged sale is there and verify passes — also after
// a restart. It needs root (mount); CI runs as root.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a file system")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	ctx := context.Background()
	cfg := config{DataDir: filepath.Join(mnt, "data"), PublicURL: "http://localhost:8080"}
	a, err := openApp(ctx, cfg, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { a.close() }()
	if _, err := seedDemo(ctx, a, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := a.store.Writable(ctx); err != nil {
		t.Fatalf("a fresh store is not writable: %v", err)
	}
	jars := oldestJars(t, ctx, a, "SIROUA-SAFRAN")
	if _, err := a.stock.Adjust(ctx, accounts.System, "TAROUDANNT", shops.AdjustmentRequest{Lot: jars, Units: 60, Reason: "disk full test"}); err != nil {
		t.Fatal(err)
	}
	// Leave a little room: the next sales fill it.
	filler := filepath.Join(mnt, "filler")
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, free-96<<10); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var sold []string
	var failed error
	for range 100 {
		s, err := a.stock.Sell(ctx, taroudannt, "TAROUDANNT", shops.SaleRequest{Payment: "cash",
			Lines: []shops.Line{{SKU: "SAF-TAL-1G", Units: 1}}})
		if err != nil {
			failed = err
			break
		}
		sold = append(sold, s.ID)
	}
	if failed == nil {
		t.Fatal("the disk never filled")
	}
	if problem.CodeOf(failed) != problem.Unavailable || !errors.Is(failed, mongodb.ErrUnavailable) {
		t.Fatalf("a write on a full disk: %v (code %q), want unavailable", failed, problem.CodeOf(failed))
	}
	t.Logf("%d sales acknowledged before the disk filled: %v", len(sold), failed)
	// Refused at once now, and /readyz's probe says so.
	if _, err := a.stock.Sell(ctx, taroudannt, "TAROUDANNT", shops.SaleRequest{Payment: "cash",
		Lines: []shops.Line{{SKU: "SAF-TAL-1G", Units: 1}}}); problem.CodeOf(err) != problem.Unavailable {
		t.Fatalf("a second write on a full disk: %v", err)
	}
	if err := a.store.Writable(ctx); !errors.Is(err, mongodb.ErrUnavailable) {
		t.Fatalf("Writable on a full disk: %v", err)
	}
	// Reads keep working, and nothing is half written.
	if _, err := a.stock.StockOf(ctx, taroudannt, "TAROUDANNT"); err != nil {
		t.Fatalf("reading stock on a full disk: %v", err)
	}
	if _, err := a.trace.PublicLot(ctx, jars); err != nil {
		t.Fatalf("reading a lot on a full disk: %v", err)
	}
	mustVerify(t, a, "on a full disk")

	// Space returns.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := a.store.Writable(ctx); err != nil {
		t.Fatalf("Writable once space returned: %v", err)
	}
	s, err := a.stock.Sell(ctx, taroudannt, "TAROUDANNT", shops.SaleRequest{Payment: "cash",
		Lines: []shops.Line{{SKU: "SAF-TAL-1G", Units: 1}}})
	if err != nil {
		t.Fatalf("a sale once space returned: %v", err)
	}
	sold = append(sold, s.ID)
	check := func(when string) {
		for _, id := range sold {
			if _, err := a.stock.Sale(ctx, taroudannt, "TAROUDANNT", id); err != nil {
				t.Fatalf("%s: acknowledged sale %s: %v", when, id, err)
			}
		}
		mustVerify(t, a, when)
	}
	check("once space returned")
	a.close()
	if a, err = openApp(ctx, cfg, newLogger(io.Discard)); err != nil {
		t.Fatal(err)
	}
	check("after a restart")
}

func oldestJars(t *testing.T, ctx context.Context, a *app, coop string) string {
	t.Helper()
	lots, err := a.trace.Lots(ctx, accounts.System, coop, mongodb.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(lots) - 1; i >= 0; i-- {
		if lots[i].Source == traceability.SourcePacking {
			return lots[i].Code
		}
	}
	t.Fatalf("%s has no packed lot", coop)
	return ""
}
