package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/web"
)

// backupCmd writes a backup of the register to a file:
//
//	terroir backup --out FILE                      the store itself (stopped, or a replica set)
//	terroir backup --out FILE --url URL --token T  a running server, over its API
func backupCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg := configFrom(getenv)
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.storeFlags(fs)
	out := fs.String("out", "", "archive to write (a gzipped mongodump archive; required)")
	url := fs.String("url", "", "base URL of a running server to back up over the API")
	token := fs.String("token", getenv("TERROIR_TOKEN"), "an admin's bearer token for --url (TERROIR_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: terroir backup --out FILE [--data DIR | --mongodb-uri URI | --url URL --token T]")
		return 2
	}
	ctx := context.Background()
	start := time.Now()
	progress := newProgressLine(stderr).set
	write := func(w io.Writer) error {
		if *url != "" {
			return download(ctx, strings.TrimRight(*url, "/")+"/api/v1/admin/backup", *token, w, progress)
		}
		store, err := mongodb.Open(ctx, mongodb.Config{URI: cfg.MongoURI, DataDir: cfg.DataDir})
		if errors.Is(err, mongodb.ErrLocked) {
			return fmt.Errorf("%w\n  the server is running: back it up over its API with --url and --token", err)
		}
		if err != nil {
			return err
		}
		defer store.Close()
		_, err = store.Backup(ctx, w, "terroir "+version, func(p mongodb.BackupProgress) {
			progress(fmt.Sprintf("%d/%d collections, %d documents, %s", p.Collections, p.Total, p.Documents, byteSize(p.Bytes)))
		})
		return err
	}
	if err := writeFileAtomically(*out, write); err != nil {
		fmt.Fprintln(stderr)
		return errorf(stderr, "backup: %v", err)
	}
	fmt.Fprintln(stderr)
	// Read it back: a backup is only one once it restores.
	f, err := os.Open(*out)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer f.Close()
	m, err := mongodb.CheckArchive(f)
	if err != nil {
		return errorf(stderr, "the backup written to %s does not check: %v", *out, err)
	}
	fi, _ := f.Stat()
	fmt.Fprintf(stdout, "backed up %d documents in %d collections to %s (%s, writes held %s) in %s\n", m.Documents(), len(m.Collections), *out,
		byteSize(fi.Size()), m.HeldWrites.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	return 0
}

// writeFileAtomically writes path through a temporary file renamed at the
// end, so a backup cut short never looks like a backup.
func writeFileAtomically(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// download streams the server's backup endpoint into w.
func download(ctx context.Context, url, token string, w io.Writer, progress func(string)) error {
	if token == "" {
		return errors.New("--url needs an admin's --token (POST /api/v1/auth/token)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return fmt.Errorf("%s answered %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	var n int64
	buf := make([]byte, 256<<10)
	for {
		k, rerr := resp.Body.Read(buf)
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				return err
			}
			n += int64(k)
			progress(fmt.Sprintf("downloaded %s", byteSize(n)))
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// restoreCmd loads a backup into an empty store:
//
//	terroir restore FILE [--data DIR | --mongodb-uri URI]
func restoreCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg := configFrom(getenv)
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.storeFlags(fs)
	// Flags may come after the file: terroir restore FILE --data DIR.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() != 0 {
		file = ""
	}
	if file == "" {
		fmt.Fprintln(stderr, "usage: terroir restore FILE [--data DIR | --mongodb-uri URI]")
		return 2
	}
	ctx := context.Background()
	start := time.Now()
	open := func() (io.ReadCloser, error) { return os.Open(file) }
	// The whole archive is checked before the target is even opened.
	r, err := open()
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	m, err := mongodb.CheckArchive(r)
	r.Close()
	if err != nil {
		return errorf(stderr, "restore %s: %v; nothing was written", file, err)
	}
	fmt.Fprintf(stderr, "%s: a backup of %s (%s) taken %s: %d documents in %d collections\n", file, m.Database, m.Source,
		m.CreatedAt.Format(time.RFC3339), m.Documents(), len(m.Collections))
	created := false
	if cfg.MongoURI == "" {
		if _, err := os.Stat(cfg.DataDir); errors.Is(err, os.ErrNotExist) {
			created = true
		}
	}
	store, err := mongodb.Open(ctx, mongodb.Config{URI: cfg.MongoURI, DataDir: cfg.DataDir})
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	progress := newProgressLine(stderr).set
	_, err = store.Restore(ctx, open, func(p mongodb.BackupProgress) {
		progress(fmt.Sprintf("restored %d/%d documents (%d/%d collections)", p.Documents, m.Documents(), p.Collections, p.Total))
	})
	fmt.Fprintln(stderr)
	if err == nil {
		err = store.EnsureIndexes(ctx, web.Indexes())
	}
	store.Close()
	if err != nil {
		if created {
			_ = os.RemoveAll(cfg.DataDir)
		}
		return errorf(stderr, "restore %s: %v", file, err)
	}
	a, err := openApp(ctx, cfg, newLogger(io.Discard))
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer a.close()
	problems, err := verifyAll(ctx, a, stdout, stderr)
	if err != nil {
		return errorf(stderr, "verify: %v", err)
	}
	target := cfg.DataDir
	if cfg.MongoURI != "" {
		target = "the MongoDB replica set"
	}
	fmt.Fprintf(stdout, "restored %d documents into %s in %s\n", m.Documents(), target, time.Since(start).Round(time.Millisecond))
	if problems > 0 {
		return 1
	}
	return 0
}

// backupSchedule reads TERROIR_BACKUP_DIR, TERROIR_BACKUP_EVERY (a Go
// duration, 24h by default) and TERROIR_BACKUP_KEEP (7): nil without a
// directory. Wrong values stop the server at start, never later.
func backupSchedule(cfg config) (*mongodb.BackupSchedule, error) {
	if cfg.BackupDir == "" {
		return nil, nil
	}
	every, err := time.ParseDuration(cfg.BackupEvery)
	if err != nil || every < time.Minute {
		return nil, fmt.Errorf("TERROIR_BACKUP_EVERY=%q: give a duration of at least 1m, such as 24h or 6h", cfg.BackupEvery)
	}
	keep, err := strconv.Atoi(cfg.BackupKeep)
	if err != nil || keep < 1 {
		return nil, fmt.Errorf("TERROIR_BACKUP_KEEP=%q: give how many backups to keep, 1 or more", cfg.BackupKeep)
	}
	dir, err := filepath.Abs(cfg.BackupDir)
	if err != nil {
		return nil, err
	}
	return &mongodb.BackupSchedule{Dir: dir, Every: every, Keep: keep, Tool: "terroir " + version}, nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
