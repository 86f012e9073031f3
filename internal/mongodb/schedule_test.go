package mongodb_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

func TestScheduledBackupsRotateAndSurviveFailures(t *testing.T) {
	s := mongotest.New(t)
	fill(t, s, 10)
	ctx := context.Background()
	clock := time.Date(2026, 11, 3, 2, 0, 0, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "backups")
	b := mongodb.BackupSchedule{Dir: dir, Every: 24 * time.Hour, Keep: 3, Tool: "test", Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { clock = clock.Add(24 * time.Hour); return clock }}
	for range 5 {
		if _, err := b.Once(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 || entries[2].Name() != "terroir-20261108-020000.archive.gz" {
		t.Fatalf("kept %v", entries)
	}
	last := s.LastBackup()
	if last.Total != 5 || last.Failed || last.Bytes == 0 || filepath.Base(last.File) != entries[2].Name() {
		t.Fatalf("last backup %+v", last)
	}
	// A backup that cannot be written is counted and does not stop anything.
	bad := b
	bad.Dir = filepath.Join(dir, entries[0].Name(), "inside-a-file")
	if _, err := bad.Once(ctx, s); err == nil {
		t.Fatal("a backup into a file's path succeeded")
	}
	if last := s.LastBackup(); !last.Failed || last.Failures != 1 || last.Total != 5 {
		t.Fatalf("after a failure: %+v", last)
	}
	if _, err := b.Once(ctx, s); err != nil {
		t.Fatal(err)
	}
	if last := s.LastBackup(); last.Failed || last.Failures != 1 || last.Total != 6 {
		t.Fatalf("after the next success: %+v", last)
	}
	// Each kept file restores.
	for _, e := range entries[1:] {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // rotated away by the last backup
		}
		if _, err := mongodb.CheckArchive(f); err != nil {
			t.Errorf("%s: %v", e.Name(), err)
		}
		f.Close()
	}
}

// TestScheduleRuns: the loop takes its first backup at once when the
// directory has none, then one every period.
func TestScheduleRuns(t *testing.T) {
	s := mongotest.New(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var n int64
	clock := time.Now()
	go func() {
		defer close(done)
		mongodb.BackupSchedule{Dir: dir, Every: 20 * time.Millisecond, Keep: 2, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Now: func() time.Time { n++; return clock.Add(time.Duration(n) * time.Hour) }}.Run(ctx, s)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for s.LastBackup().Total < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("backups after 20 s: %+v", s.LastBackup())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("kept %d files, want 2", len(entries))
	}
}
