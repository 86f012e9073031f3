package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
)

const importUsage = `usage: terroir import members|parcels|harvests|certifications --coop CODE [--dry-run] [--sheet NAME] [--new-places] FILE

FILE is a CSV (comma or semicolon, UTF-8), an Excel workbook (.xlsx) or, for
parcels, a GeoJSON, KML or GPX file. Columns are matched by their headers in
French, English or Arabic. All rows are imported, or none; a file imported
again changes nothing. --dry-run shows how the file was understood and
writes nothing.`

// CLI limits: the file is local, so only memory bounds it (the server's
// upload keeps traceability.MaxImportBytes and MaxImportRows).
const (
	cliImportBytes = 50 << 20
	cliImportRows  = 50_000
)

// importCmd imports a register file: `terroir import KIND --coop CODE FILE`.
// Exit status 1 when the file is refused, with every problem listed.
func importCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || !isImportKind(args[0]) {
		fmt.Fprintln(stderr, importUsage)
		return 2
	}
	kind := traceability.ImportKind(args[0])
	cfg := configFrom(getenv)
	fs := flag.NewFlagSet("import "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.storeFlags(fs)
	coop := fs.String("coop", "", "cooperative code (required)")
	dryRun := fs.Bool("dry-run", false, "check the file and show how it was understood, without writing")
	sheet := fs.String("sheet", "", "the workbook's sheet to read (default: the first)")
	newPlaces := fs.Bool("new-places", false, "record villages and communes not known yet instead of refusing their rows")
	files, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return 2
	}
	if *coop == "" || len(files) != 1 {
		fmt.Fprintln(stderr, importUsage)
		return 2
	}
	f, err := os.Open(files[0])
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer f.Close()
	ctx := context.Background()
	a, err := openApp(ctx, cfg, newLogger(io.Discard))
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer a.close()
	progress := newProgressLine(stderr)
	opts := []traceability.ImportOption{traceability.ImportLimits(cliImportBytes, cliImportRows), traceability.ImportProgressFunc(progress.update)}
	if *sheet != "" {
		opts = append(opts, traceability.ImportSheet(*sheet))
	}
	if *newPlaces {
		opts = append(opts, traceability.AcceptNewPlaces())
	}
	start := time.Now()
	name := filepath.Base(files[0])
	var p traceability.ImportPreview
	if *dryRun {
		p, err = a.trace.Preview(ctx, accounts.System, *coop, kind, name, f, opts...)
	} else {
		p, err = a.trace.Apply(ctx, accounts.System, *coop, kind, name, f, opts...)
	}
	progress.done()
	if pe, ok := problem.As(err); ok && pe.Code == problem.Unprocessable && len(p.Rows)+len(p.Problems) > 0 {
		err = nil // the preview lists the problems
	}
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	if *dryRun {
		printColumns(stdout, p)
	}
	if len(p.Problems) > 0 {
		fmt.Fprintf(stderr, "terroir: %s: %d problems; nothing was imported\n", name, len(p.Problems))
		printProblems(stderr, p)
		return 1
	}
	c := p.Counts
	if *dryRun {
		fmt.Fprintf(stdout, "%s: %d rows: %d to create, %d to complete, %d unchanged (dry run: nothing written)\n", name, c.Rows, c.Create, c.Complete, c.Unchanged)
		return 0
	}
	d := time.Since(start)
	fmt.Fprintf(stdout, "imported %d %s in %s (%.0f rows/s): %d created, %d completed, %d unchanged\n",
		c.Create+c.Complete, kind, d.Round(time.Millisecond), float64(c.Rows)/d.Seconds(), c.Create, c.Complete, c.Unchanged)
	if len(p.NewPlaces) > 0 {
		fmt.Fprintf(stdout, "new places recorded: %s\n", strings.Join(p.NewPlaces, ", "))
	}
	return 0
}

func isImportKind(s string) bool {
	for _, k := range traceability.ImportKinds {
		if s == k {
			return true
		}
	}
	return false
}

// parseInterspersed parses flags before and after the positional
// arguments, so `import members FILE --dry-run` works too.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// printColumns shows how each column was understood.
func printColumns(w io.Writer, p traceability.ImportPreview) {
	where := p.Format
	if p.Sheet != "" {
		where += ", sheet " + p.Sheet
	}
	if p.Delimiter != "" {
		where += fmt.Sprintf(", separator %q", p.Delimiter)
	}
	if p.HeaderRow > 0 {
		where += fmt.Sprintf(", header on row %d", p.HeaderRow)
	}
	fmt.Fprintf(w, "%s (%s)\n", p.Filename, where)
	for _, c := range p.Columns {
		switch {
		case c.Field != "" && c.Unit != "":
			fmt.Fprintf(w, "  %-3s %-28s → %s (in %s)\n", c.Letter, c.Header, c.Field, c.Unit)
		case c.Field != "":
			fmt.Fprintf(w, "  %-3s %-28s → %s\n", c.Letter, c.Header, c.Field)
		case c.Note == "duplicate":
			fmt.Fprintf(w, "  %-3s %-28s   ignored: column %s already gives it\n", c.Letter, c.Header, c.DuplicateOf)
		default:
			fmt.Fprintf(w, "  %-3s %-28s   ignored\n", c.Letter, c.Header)
		}
	}
	if len(p.Missing) > 0 {
		fmt.Fprintf(w, "  no column for: %s\n", strings.Join(p.Missing, ", "))
	}
}

// printProblems lists every problem as "row 7: gender (column D) …".
func printProblems(w io.Writer, p traceability.ImportPreview) {
	for _, e := range p.Problems {
		field := e.Field
		if e.Column != "" {
			field += " (column " + e.Column + ")"
		}
		if field != "" {
			field += " "
		}
		fmt.Fprintf(w, "  %s %d: %s%s\n", p.RowLabel, e.Row, field, e.Message)
	}
}

// progressLine prints where a long job (an import, a backup, a restore)
// is, on one line that it rewrites at most every interval; jobs shorter
// than that print nothing.
type progressLine struct {
	w        io.Writer
	interval time.Duration
	start    time.Time
	last     time.Time
	printed  bool
}

func newProgressLine(w io.Writer) *progressLine {
	now := time.Now()
	return &progressLine{w: w, interval: time.Second, start: now, last: now}
}

// set shows s as the job's progress.
func (p *progressLine) set(s string) {
	if time.Since(p.last) < p.interval {
		return
	}
	p.last = time.Now()
	p.printed = true
	fmt.Fprintf(p.w, "\r%-70s", s)
}

func (p *progressLine) update(pr traceability.ImportProgress) {
	verb := map[string]string{"read": "read", "check": "checked", "write": "wrote"}[pr.Stage]
	p.set(fmt.Sprintf("%s %d/%d rows (%s)…", verb, pr.Done, pr.Total, time.Since(p.start).Round(time.Second)))
}

func (p *progressLine) done() {
	if p.printed {
		fmt.Fprintln(p.w)
	}
}
