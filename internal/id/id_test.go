package id

import (
	"strings"
	"testing"
)

func TestNewIDsAreUniqueAndPrefixed(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		v := New("mbr")
		if !strings.HasPrefix(v, "mbr_") || len(v) != len("mbr_")+16 || seen[v] {
			t.Fatalf("id %q (seen %v)", v, seen[v])
		}
		seen[v] = true
	}
}

func TestCodes(t *testing.T) {
	if NormalizeCode(" tiwizwine ") != "TIWIZWINE" {
		t.Fatal("codes are upper-cased and trimmed")
	}
	for code, ok := range map[string]bool{"SIROUA": true, "EU-PLATFORM": true, "A": false, "-AB": false, "ab": false, "BAD CODE": false, strings.Repeat("A", 33): false} {
		if err := ValidateCode("code", code); (err == nil) != ok {
			t.Errorf("%q: %v", code, err)
		}
	}
}

func TestNumberReadsBack(t *testing.T) {
	for range 100 {
		x := New("ord")
		n := Number(x)
		if len(n) != 19 || strings.ToUpper(n) != n || strings.Contains(n, "_") {
			t.Fatalf("Number(%s) = %q", x, n)
		}
		if back := FromNumber("ord", strings.ToLower(n)); back != x {
			t.Fatalf("FromNumber(%q) = %q, want %q", n, back, x)
		}
	}
	if got := Number("ord_tstqrj1bhvgfrb57"); got != "TSTQ-RJ1B-HVGF-RB57" {
		t.Fatalf("got %q", got)
	}
	if got := FromNumber("ord", " tstq-rjib-hvgf-rb57 "); got != "ord_tstqrj1bhvgfrb57" {
		t.Fatalf("an I typed for a 1: %q", got)
	}
}
