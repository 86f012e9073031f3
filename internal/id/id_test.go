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
