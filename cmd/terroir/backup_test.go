package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// TestBackupUnderLoadRestores backs a running server up over its API while
// tills sell through it, restores the archive into an empty directory and
// checks: the restored register has exactly the collections and counts of
// the backup's manifest, every sale acknowledged before the backup began,
// and terroir verify passes (chains, balances, links). A truncated copy of
// the archive is refused and leaves its target empty.
func TestBackupUnderLoadRestores(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	data := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"seed", "--data", data}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("seed: %s", errOut.String())
	}
	srv := startTerroir(t, data)
	login := func(email string) string {
		var tok struct {
			Token string `json:"token"`
		}
		if err := srv.create("", "/api/v1/auth/token", map[string]string{"email": email, "password": demoPassword}, &tok); err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	admin, till := login("admin@terroir.demo"), login("taroudannt@terroir.demo")
	sell := func() (string, error) {
		var s struct {
			ID string `json:"id"`
		}
		err := srv.create(till, "/api/v1/shops/TAROUDANNT/sales", map[string]any{"payment": "cash",
			"lines": []map[string]any{{"sku": "PAM-ROMARIN-10ML", "units": 1}}}, &s)
		return s.ID, err
	}
	var before []string
	for range 3 {
		id, err := sell()
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, id)
	}
	var stop atomic.Bool
	var during atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if _, err := sell(); err != nil {
				if !strings.Contains(err.Error(), "insufficient_stock") {
					t.Error(err)
				}
				return
			}
			during.Add(1)
		}
	}()
	archive := filepath.Join(t.TempDir(), "terroir.archive.gz")
	out.Reset()
	errOut.Reset()
	code := run([]string{"backup", "--out", archive, "--url", "http://" + srv.addr, "--token", admin}, noEnv, nil, &out, &errOut)
	stop.Store(true)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup over the API: %d\n%s%s", code, out.String(), errOut.String())
	}
	t.Logf("%s(%d sales while it ran)", out.String(), during.Load())
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mongodb.CheckArchive(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}

	target := filepath.Join(t.TempDir(), "restored")
	out.Reset()
	errOut.Reset()
	if code := run([]string{"restore", archive, "--data", target}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("restore: %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "0 tampered") {
		t.Fatalf("restore did not verify:\n%s", out.String())
	}
	ctx := context.Background()
	a, err := openApp(ctx, config{DataDir: target}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.Collections {
		n, err := a.store.Collection(c.Name).CountDocuments(ctx, bson.M{})
		if err != nil || n != c.Count {
			t.Errorf("%s: %d documents restored, %d backed up (%v)", c.Name, n, c.Count, err)
		}
	}
	for _, id := range before {
		if _, err := a.stock.Sale(ctx, taroudannt, "TAROUDANNT", id); err != nil {
			t.Errorf("sale %s, acknowledged before the backup: %v", id, err)
		}
	}
	mustVerify(t, a, "after the restore")
	a.close()

	// A truncated archive is refused, and its target stays empty.
	whole, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.archive.gz")
	if err := os.WriteFile(cut, whole[:len(whole)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "never")
	out.Reset()
	errOut.Reset()
	if code := run([]string{"restore", cut, "--data", empty}, noEnv, nil, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "truncated") {
		t.Fatalf("restore of a truncated archive: %d\n%s", code, errOut.String())
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Fatalf("a refused restore touched its target: %v", err)
	}
	// A restore into a directory that holds a register is refused.
	if code := run([]string{"restore", archive, "--data", target}, noEnv, nil, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "not empty") {
		t.Fatalf("restore into a full directory: %d\n%s", code, errOut.String())
	}
}

// TestBackupOfAStoppedStore backs up a data directory with the CLI and
// restores it: the restored store is byte for byte the same.
func TestBackupOfAStoppedStore(t *testing.T) {
	data := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"seed", "--data", data}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("seed: %s", errOut.String())
	}
	archive := filepath.Join(t.TempDir(), "b.archive.gz")
	if code := run([]string{"backup", "--out", archive, "--data", data}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("backup: %s", errOut.String())
	}
	target := t.TempDir()
	if code := run([]string{"restore", "--data", target, archive}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("restore: %s%s", out.String(), errOut.String())
	}
	ctx := context.Background()
	digest := func(dir string) snapshot {
		a, err := openApp(ctx, config{DataDir: dir}, newLogger(io.Discard))
		if err != nil {
			t.Fatal(err)
		}
		defer a.close()
		return snap(t, a)
	}
	src, dst := digest(data), digest(target)
	delete(src.digest, "store_health")
	delete(dst.digest, "store_health")
	if d := src.diff(dst); len(d) > 0 {
		t.Fatalf("restored collections differ: %v", d)
	}
}

func TestBackupScheduleConfig(t *testing.T) {
	if s, err := backupSchedule(config{}); s != nil || err != nil {
		t.Fatalf("no directory: %v %v", s, err)
	}
	env := map[string]string{"TERROIR_BACKUP_DIR": "/var/backups/terroir"}
	s, err := backupSchedule(configFrom(func(k string) string { return env[k] }))
	if err != nil || s.Every.Hours() != 24 || s.Keep != 7 || s.Dir != "/var/backups/terroir" {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	for _, bad := range []config{{BackupDir: "b", BackupEvery: "daily", BackupKeep: "7"}, {BackupDir: "b", BackupEvery: "1s", BackupKeep: "7"},
		{BackupDir: "b", BackupEvery: "6h", BackupKeep: "0"}, {BackupDir: "b", BackupEvery: "6h", BackupKeep: "all"}} {
		if _, err := backupSchedule(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
