// Package pdftest reads PDFs back in tests with poppler (Debian's
// poppler-utils: pdftotext, pdftoppm), so a test checks what a person or a
// printer gets from a generated document — its text, its rendered pages —
// rather than the bytes a library wrote. Without poppler the calling test is
// skipped, and fails under CI=true (.ci/run installs it).
package pdftest

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := name + " is needed to check PDFs: apt-get install -y poppler-utils"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

func write(t testing.TB, pdf []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// Text is the text pdftotext reads from a PDF, keeping its layout. It fails
// the test when poppler cannot read the document.
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	out, err := exec.Command(tool(t, "pdftotext"), "-layout", "-enc", "UTF-8", write(t, pdf), "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// Pages renders every page of a PDF with pdftoppm at dpi and decodes them.
func Pages(t testing.TB, pdf []byte, dpi int) []image.Image {
	t.Helper()
	f := write(t, pdf)
	prefix := filepath.Join(filepath.Dir(f), "page")
	if out, err := exec.Command(tool(t, "pdftoppm"), "-r", strconv.Itoa(dpi), "-png", f, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	names, _ := filepath.Glob(prefix + "-*.png")
	sort.Strings(names)
	var pages []image.Image
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, img)
	}
	return pages
}

// PixelsNear counts the pixels of img within tol (per channel, 0–255) of
// the colour rgb.
func PixelsNear(img image.Image, rgb [3]int, tol int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(int(r>>8), rgb[0], tol) && near(int(g>>8), rgb[1], tol) && near(int(bl>>8), rgb[2], tol) {
				n++
			}
		}
	}
	return n
}

func near(a, b, tol int) bool { return a-b <= tol && b-a <= tol }
