package labels

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/terroir-coop/terroir/web/i18n"
)

func TestQRModulesPrintAtLeast04mm(t *testing.T) {
	// The longest URL our labels carry: a long public URL, a 14-digit GTIN,
	// a 20-character lot (the GS1 AI 10 limit), a serial and the signature.
	long := "https://trace.terroir-souss-massa.ma/01/06111234567895/10/SAF-ABCDEFGHIJKLMNOP/21/000123?s=mQ5ZvT18-l8Y0g"
	q, err := qrcode.New(long, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	modules := len(q.Bitmap())
	for _, g := range Grids() {
		module, err := qrLayout(g, modules)
		if err != nil {
			t.Errorf("%s: %v", g.name, err)
			continue
		}
		side := module * float64(modules)
		if module < minModuleMM || side > g.h-1 || side > g.w/2 {
			t.Errorf("%s: module %.3f mm, symbol %.1f mm on a %.1f×%.1f mm label", g.name, module, side, g.w, g.h)
		}
		if dots := module / printerDotMM; dots-float64(int(dots+0.5)) > 1e-9 || float64(int(dots+0.5))-dots > 1e-9 {
			t.Errorf("%s: module of %.3f printer dots", g.name, dots)
		}
	}
	// A symbol far denser than our URLs make does not fit the small grid.
	g, _ := GridOf("4x10")
	if _, err := qrLayout(g, 17+4*12+8); err == nil {
		t.Fatal("a version 12 symbol on 48.5×25.4 mm labels should be refused")
	}
}

func TestLabelSheetCarriesEachSerialAndCutsNothing(t *testing.T) {
	var labels []Label
	for _, serial := range []string{"0041", "0042"} {
		labels = append(labels, Label{URL: "https://t.example/01/06111234567895/10/SAF-X/21/" + serial + "?s=AAAAAAAAAAAAAA",
			Product: "Huile d'argan alimentaire, pressée à froid, 250 ml", NetQuantity: "Volume net : 250 ml", Lot: "ARG-7K2M9Q4W1Z",
			Serial: serial, BestBefore: "2027-06-30", Cooperative: "Coopérative féminine Tighanimine",
			Marks: []Mark{{"IGP Argane", "MA-IGP-07"}, {"Bio UE", "MA-BIO-154"}}})
	}
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	fr := b.Locale("fr")
	for _, g := range Grids() {
		var buf bytes.Buffer
		if err := WriteSheet(&buf, g, labels, SheetOptions{Title: "t", Created: time.Unix(0, 0), Text: fr}); err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		pdf := buf.String()
		for _, want := range []string{"n\xb0 0041", "n\xb0 0042", "Volume net : 250 ml", "IGP Argane", "MA-BIO-154", "30/06/2027", "Tighanimine"} {
			if !strings.Contains(pdf, want) {
				t.Errorf("%s: the sheet does not say %q", g.name, want)
			}
		}
		if strings.Contains(pdf, "\x85") {
			t.Errorf("%s: some text was cut with an ellipsis", g.name)
		}
	}
}
