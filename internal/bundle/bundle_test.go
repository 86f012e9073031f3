package bundle

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var created = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

func sample() []File {
	return []File{
		{Name: "summary.pdf", Data: []byte("%PDF-1.4 summary")},
		{Name: "csv/members.csv", Data: []byte("id,name\nmbr_1,Fatima\n")},
		{Name: "reports/r1.png", Load: func() ([]byte, error) { return []byte("\x89PNG..."), nil }},
	}
}

// TestWriteThenVerify writes a bundle, checks its manifest against the
// files, and that the same files give the same archive.
func TestWriteThenVerify(t *testing.T) {
	var a bytes.Buffer
	var progress []int
	m, err := Write(&a, "Dossier", created, sample(), func(n int) { progress = append(progress, n) })
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 3 || len(progress) != 3 || progress[2] != 3 {
		t.Fatalf("manifest %+v, progress %v", m, progress)
	}
	sum := sha256.Sum256([]byte("id,name\nmbr_1,Fatima\n"))
	if m.Files[1].SHA256 != hex.EncodeToString(sum[:]) || m.Files[1].Size != 21 {
		t.Errorf("entry %+v", m.Files[1])
	}
	got, err := Verify(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil || len(got.Files) != 3 || got.Title != "Dossier" || !got.Created.Equal(created) {
		t.Fatalf("verify: %v %+v", err, got)
	}
	var b bytes.Buffer
	if _, err := Write(&b, "Dossier", created, sample(), nil); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("the same files gave another archive (%v)", err)
	}
	// sha256sum, the standard tool, agrees with SHA256SUMS.
	if _, err := exec.LookPath("sha256sum"); err == nil {
		dir := t.TempDir()
		zr, _ := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
		for _, f := range zr.File {
			rc, _ := f.Open()
			data, _ := io.ReadAll(rc)
			rc.Close()
			p := filepath.Join(dir, filepath.FromSlash(f.Name))
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("sha256sum", "-c", SumsName)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil || strings.Count(string(out), ": OK") != 3 {
			t.Errorf("sha256sum -c: %v\n%s", err, out)
		}
	}
}

// rezip rewrites an archive with edit applied to its entries.
func rezip(t *testing.T, archive []byte, edit func(name string, data []byte) (string, []byte, bool)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		name, data, keep := edit(f.Name, data)
		if !keep {
			continue
		}
		w, _ := zw.Create(name)
		_, _ = w.Write(data)
	}
	_ = zw.Close()
	return out.Bytes()
}

// TestVerifyFindsChanges: a changed, missing or extra file is found.
func TestVerifyFindsChanges(t *testing.T) {
	var a bytes.Buffer
	if _, err := Write(&a, "Dossier", created, sample(), nil); err != nil {
		t.Fatal(err)
	}
	tests := map[string]func(string, []byte) (string, []byte, bool){
		"changed": func(n string, d []byte) (string, []byte, bool) {
			if n == "csv/members.csv" {
				return n, []byte("id,name\nmbr_1,Fatimb\n"), true
			}
			return n, d, true
		},
		"missing": func(n string, d []byte) (string, []byte, bool) { return n, d, n != "summary.pdf" },
		"extra": func(n string, d []byte) (string, []byte, bool) {
			if n == "summary.pdf" {
				return "summary2.pdf", d, true
			}
			return n, d, true
		},
		"sums": func(n string, d []byte) (string, []byte, bool) {
			if n == SumsName {
				return n, d[:10], true
			}
			return n, d, true
		},
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			b := rezip(t, a.Bytes(), edit)
			if _, err := Verify(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrMismatch) {
				t.Errorf("verify: %v", err)
			}
		})
	}
}

// TestWriteRefusesBadNames: nothing that could escape the directory or
// shadow the manifest.
func TestWriteRefusesBadNames(t *testing.T) {
	for _, name := range []string{"", "../evil", "/etc/passwd", "a/../../b", "a\\b", "./a", ManifestName, SumsName, "a\nb"} {
		if _, err := Write(io.Discard, "x", created, []File{{Name: name}}, nil); err == nil {
			t.Errorf("%q accepted", name)
		}
	}
	if _, err := Write(io.Discard, "x", created, []File{{Name: "a"}, {Name: "a"}}, nil); err == nil {
		t.Error("a name listed twice was accepted")
	}
}
