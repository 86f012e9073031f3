package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/traceability"
)

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	_, parcel, member := seedOneLot(t, dir)
	file := filepath.Join(t.TempDir(), "h.csv")
	rows := "parcel,member,date,crop,amount,unit\n" + parcel + "," + member + ",2025-10-30,saffron,200,g\n"
	if err := os.WriteFile(file, []byte(rows+parcel+",nobody,2025-10-30,saffron,200,g\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	// Rows are numbered as the spreadsheet shows them: the header is row 1.
	if code := run([]string{"import", "harvests", "--data", dir, "--coop", "SIROUA", file}, noEnv, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "row 3: member (column B)") {
		t.Fatalf("bad file: exit %d %q", code, errOut.String())
	}
	if err := os.WriteFile(file, []byte(rows), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"import", "harvests", "--data", dir, "--coop", "SIROUA", file}, noEnv, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "imported 1 harvests") {
		t.Fatalf("good file: exit %d %q %q", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run([]string{"import", "harvests", "--data", dir, "--coop", "SIROUA", file}, noEnv, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "0 created, 0 completed, 1 unchanged") {
		t.Fatalf("same file again: exit %d %q %q", code, out.String(), errOut.String())
	}
}

func TestImportRegisterCommand(t *testing.T) {
	dir := t.TempDir()
	seedOneLot(t, dir)
	file := filepath.Join(t.TempDir(), "adhérents.csv")
	members := "\ufeffN° adhérent;Nom;Prénom;Sexe;Douar;Téléphone\r\nA-001;Aït Brahim;Fatima;F;Siroua;0600000000\r\nA-002;Oubella;Lahcen;H;Tinzert;\r\n"
	if err := os.WriteFile(file, []byte(members), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run([]string{"import", "members", "--data", dir, "--coop", "siroua", "--dry-run", file}, noEnv, nil, &out, &errOut)
	for _, want := range []string{"separator \";\"", "B   Nom", "→ last_name", "Téléphone", "ignored", "2 rows: 2 to create", "dry run: nothing written"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out.String())
		}
	}
	if code != 0 {
		t.Fatalf("dry run: exit %d %s", code, errOut.String())
	}
	out.Reset()
	// Flags may follow the file.
	if code := run([]string{"import", "members", file, "--data", dir, "--coop", "SIROUA"}, noEnv, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "imported 2 members") {
		t.Fatalf("import: exit %d %q %q", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run([]string{"import", "members", "--data", dir, "--coop", "SIROUA", file}, noEnv, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "0 created, 0 completed, 2 unchanged") {
		t.Fatalf("again: exit %d %q", code, out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("code;nom;genre;village\nA-003;Itto;F;Siroua\nA-003;Mina;F;Atlantis\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run([]string{"import", "members", "--data", dir, "--coop", "SIROUA", bad}, noEnv, nil, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "row 3: code (column A) A-003 is also the code on row 2") || !strings.Contains(errOut.String(), `row 3: village (column D) "Atlantis"`) {
		t.Fatalf("bad file: exit %d %q", code, errOut.String())
	}
	for _, args := range [][]string{{"import"}, {"import", "lots", "--coop", "SIROUA", file}, {"import", "members", file}} {
		if code := run(args, noEnv, nil, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
}

func TestImportProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := newProgressLine(&b)
	p.update(traceability.ImportProgress{Stage: "check", Done: 500, Total: 20000})
	p.done()
	if b.Len() != 0 {
		t.Fatalf("a short import printed %q", b.String())
	}
	p.last = p.last.Add(-2 * time.Second) // as if a second had passed
	p.update(traceability.ImportProgress{Stage: "check", Done: 5000, Total: 20000})
	p.done()
	if !strings.Contains(b.String(), "\rchecked 5000/20000 rows") || !strings.HasSuffix(b.String(), "\n") {
		t.Fatalf("progress line %q", b.String())
	}
}
