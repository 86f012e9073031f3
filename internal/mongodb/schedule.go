package mongodb

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BackupSchedule takes a backup into Dir every Every and keeps the last
// Keep (TERROIR_BACKUP_DIR, TERROIR_BACKUP_EVERY, TERROIR_BACKUP_KEEP). A
// failed backup is logged and counted (Store.LastBackup, the
// terroir_backup_last_failed metric) and never stops the server; the next
// one is tried at its time.
type BackupSchedule struct {
	Dir   string
	Every time.Duration
	Keep  int
	Tool  string // the program's name and version, for the archive header
	Log   *slog.Logger
	Now   func() time.Time
}

const backupPrefix, backupSuffix = "terroir-", ".archive.gz"

// Run takes backups until ctx ends. The first comes Every after the newest
// backup already in Dir (at once when there is none, or it is older).
func (b BackupSchedule) Run(ctx context.Context, s *Store) {
	if b.Now == nil {
		b.Now = time.Now
	}
	wait := time.Duration(0)
	if files, err := b.files(); err == nil && len(files) > 0 {
		newest := files[len(files)-1]
		if fi, err := os.Stat(newest); err == nil {
			s.recordFound(newest, fi.ModTime(), fi.Size())
			wait = max(fi.ModTime().Add(b.Every).Sub(b.Now()), 0)
		}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		_, _ = b.Once(ctx, s)
		timer.Reset(b.Every)
	}
}

// Once takes one scheduled backup now, then removes the oldest beyond Keep.
func (b BackupSchedule) Once(ctx context.Context, s *Store) (string, error) {
	if b.Now == nil {
		b.Now = time.Now
	}
	start := time.Now()
	path, m, err := b.write(ctx, s)
	if err != nil {
		s.noteFailure(err)
		b.Log.Error("scheduled backup failed", "dir", b.Dir, "err", err)
		return "", err
	}
	fi, _ := os.Stat(path)
	s.RecordBackupFile(path)
	removed := b.rotate()
	b.Log.Info("scheduled backup written", "file", path, "bytes", fi.Size(), "documents", m.Documents(),
		"held_writes", m.HeldWrites.String(), "took", time.Since(start).Round(time.Millisecond).String(), "removed", removed)
	return path, nil
}

func (b BackupSchedule) write(ctx context.Context, s *Store) (string, Manifest, error) {
	if err := os.MkdirAll(b.Dir, 0o700); err != nil {
		return "", Manifest{}, err
	}
	path := filepath.Join(b.Dir, backupPrefix+b.Now().UTC().Format("20060102-150405")+backupSuffix)
	tmp, err := os.CreateTemp(b.Dir, ".partial-*")
	if err != nil {
		return "", Manifest{}, err
	}
	defer os.Remove(tmp.Name())
	m, err := s.Backup(ctx, tmp, b.Tool, nil)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", m, fmt.Errorf("backup to %s: %w", path, err)
	}
	return path, m, nil
}

// files are the scheduled backups in Dir, oldest first (the names sort by time).
func (b BackupSchedule) files() ([]string, error) {
	entries, err := os.ReadDir(b.Dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, backupPrefix) && strings.HasSuffix(n, backupSuffix) {
			out = append(out, filepath.Join(b.Dir, n))
		}
	}
	slices.Sort(out)
	return out, nil
}

func (b BackupSchedule) rotate() int {
	files, err := b.files()
	if err != nil || b.Keep <= 0 || len(files) <= b.Keep {
		return 0
	}
	n := 0
	for _, f := range files[:len(files)-b.Keep] {
		if os.Remove(f) == nil {
			n++
		}
	}
	return n
}

// noteFailure records a failure that Backup itself did not see (the file).
func (s *Store) noteFailure(err error) {
	if st := s.LastBackup(); st.Failed && st.Error != "" && strings.Contains(err.Error(), st.Error) {
		return // Backup already counted it
	}
	s.RecordBackupFailure(err)
}

// recordFound notes a backup found on disk at start, so the admin page shows
// it before this process has taken one.
func (s *Store) recordFound(path string, at time.Time, size int64) {
	s.backups.mu.Lock()
	defer s.backups.mu.Unlock()
	if s.backups.last.At.IsZero() {
		s.backups.last.At, s.backups.last.Bytes, s.backups.last.File = at.UTC(), size, path
	}
}
