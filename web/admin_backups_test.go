package web_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestAdminPageShowsTheScheduledBackup: with scheduled backups on, the
// admin page says how often and where, then the last backup the schedule
// took (time, file, size), and a failure when the last attempt failed, in
// the page's language.
func TestAdminPageShowsTheScheduledBackup(t *testing.T) {
	dir := t.TempDir()
	sched := &mongodb.BackupSchedule{Dir: dir, Every: 6 * time.Hour, Keep: 3, Tool: "terroir test", Log: slog.New(slog.DiscardHandler)}
	e := webtest.NewWith(t, webtest.Options{BackupSchedule: sched})
	b := newBrowser(t, e)
	b.login("/")
	_, page := b.get("/admin")
	if !strings.Contains(page, `id="backup-schedule">Sauvegarde automatique toutes les 6 heures dans le dossier `+dir+` ; nombre de sauvegardes gardées : 3.`) ||
		!strings.Contains(page, `id="backup-none"`) || strings.Contains(page, `id="backup-off"`) {
		t.Fatalf("the schedule before its first backup: %s", page)
	}

	// The schedule takes its first backup at once (the folder is empty).
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sched.Run(ctx, e.Store); close(done) }()
	deadline := time.Now().Add(60 * time.Second)
	for e.Store.LastBackup().File == "" {
		if time.Now().After(deadline) {
			t.Fatal("the scheduled backup did not happen")
		}
		time.Sleep(20 * time.Millisecond) // polling the store, with a deadline
	}
	cancel()
	<-done
	last := e.Store.LastBackup()
	if filepath.Dir(last.File) != dir || last.Bytes <= 0 {
		t.Fatalf("last backup %+v", last)
	}
	_, page = b.get("/admin")
	wantSize := strconv.FormatInt((last.Bytes+1023)>>10, 10) + " Ko"
	if last.Bytes >= 1<<20 {
		t.Fatalf("an empty register backed up in %d bytes", last.Bytes)
	}
	for _, want := range []string{`id="backup-last"`, `<code dir="ltr">` + last.File + `</code>`, last.At.UTC().Format("2006-01-02 15:04") + " UTC",
		"<bdi>" + wantSize + "</bdi>", "Depuis le démarrage : 1 réussie(s), 0 échouée(s)."} {
		if !strings.Contains(page, want) {
			t.Errorf("the admin page lacks %q after the scheduled backup", want)
		}
	}
	if strings.Contains(page, `id="backup-failed"`) {
		t.Error("a failure is shown after a successful backup")
	}

	// The next attempt fails (as the schedule records it): said plainly, the
	// last good backup still shown.
	e.Store.RecordBackupFailure(errors.New("write /backups/terroir-x.archive.gz: no space left on device"))
	_, page = b.get("/admin?lang=ar")
	if !strings.Contains(page, `id="backup-failed">فشلت آخر محاولة نسخ احتياطي`) || !strings.Contains(page, "no space left on device") ||
		!strings.Contains(page, `id="backup-last"`) || !strings.Contains(page, "كل 6 ساعات") {
		t.Fatalf("the Arabic admin page after a failed backup: %s", page)
	}
}

// TestAdminPageSaysScheduledBackupsAreOff: without TERROIR_BACKUP_DIR the
// page says so, and how to turn them on.
func TestAdminPageSaysScheduledBackupsAreOff(t *testing.T) {
	e := webtest.New(t)
	b := newBrowser(t, e)
	b.login("/")
	_, page := b.get("/admin?lang=en")
	if !strings.Contains(page, `id="backup-off">Scheduled backups are off. To turn them on, set TERROIR_BACKUP_DIR`) || strings.Contains(page, `id="backup-schedule"`) {
		t.Fatalf("backups off: %s", page)
	}
	// A backup taken by hand through the API shows as the last one.
	if resp, body := e.Do("GET", "/api/v1/admin/backup", e.AdminToken, nil); resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("backup: %d", resp.StatusCode)
	}
	if _, page = b.get("/admin"); !strings.Contains(page, `id="backup-last"`) || !strings.Contains(page, "Since start: 1 succeeded, 0 failed.") {
		t.Fatal("a backup taken through the API is not shown")
	}
}
