package traceability

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewLotCode(t *testing.T) {
	tests := []struct {
		kind   string
		prefix string
	}{
		{"saffron", "SAF"},
		{"argan_oil", "ARG"},
		{"olive_oil", "ZYT"},
		{"pamm", "PAM"},
		{"essential_oil", "PAM"},
		{"Honey", "HNY"},
		{"almond", "AMD"},
		{"crafts", "CRA"},
		{"prickly_pear", "GEN"},
		{"", "GEN"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			seen := map[string]bool{}
			for range 200 {
				code, err := NewLotCode(tt.kind)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(code, tt.prefix+"-") || len(code) != 13 {
					t.Fatalf("NewLotCode(%q) = %q, want %s- and 13 characters", tt.kind, code, tt.prefix)
				}
				if !ValidLotCode(code) {
					t.Fatalf("NewLotCode(%q) = %q, which ValidLotCode rejects", tt.kind, code)
				}
				if seen[code] {
					t.Fatalf("NewLotCode(%q) repeated %q within 200 draws", tt.kind, code)
				}
				seen[code] = true
			}
		})
	}
}

func TestNewLotCodeRandomPart(t *testing.T) {
	tests := []struct {
		name   string
		random []byte
		want   string
	}{
		// All-zero and all-one bits pin the bit-to-character mapping.
		{"zeros", []byte{0, 0, 0, 0, 0}, "SAF-00000000"},
		{"ones", []byte{0xff, 0xff, 0xff, 0xff, 0xff}, "SAF-ZZZZZZZZ"},
		{"counting", []byte{0x00, 0x44, 0x32, 0x14, 0xc7}, "SAF-01234567"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := newLotCodeFrom("saffron", bytes.NewReader(tt.random))
			if err != nil {
				t.Fatal(err)
			}
			if code[:len(code)-1] != tt.want || !ValidLotCode(code) {
				t.Errorf("code = %q, want %s plus a valid check character", code, tt.want)
			}
		})
	}
	if _, err := newLotCodeFrom("saffron", bytes.NewReader([]byte{1, 2})); err == nil {
		t.Error("short random source: want an error")
	}
}

func TestValidLotCode(t *testing.T) {
	code, err := newLotCodeFrom("saffron", bytes.NewReader([]byte{0x3a, 0x91, 0x5c, 0x07, 0xe2}))
	if err != nil {
		t.Fatal(err)
	}
	long := "SAF-0123456789ABCDE" // 19 characters before the check
	long += string(lotAlphabet[lotCheckValue(long)])
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"generated", code, true},
		{"lower case", strings.ToLower(code), true},
		{"surrounding spaces", "  " + code + "\n", true},
		{"twenty characters", long, true},
		{"twenty-one characters", long[:19] + "F" + long[19:], false},
		{"missing check", code[:len(code)-1], false},
		{"no dash", strings.Replace(code, "-", "", 1), false},
		{"dash moved", "SA-F" + code[4:], false},
		{"letter U", code[:5] + "U" + code[6:], false},
		{"punctuation", code[:5] + "*" + code[6:], false},
		{"empty", "", false},
		{"space inside", code[:6] + " " + code[7:], false},
		{"documented example", "SAF-7K3QX9MDT", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidLotCode(tt.in); got != tt.want {
				t.Errorf("ValidLotCode(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeLotCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"saf-7k3qx9mdt", "SAF-7K3QX9MDT"},
		{"SAF-O1IL", "SAF-0111"},
		{" arg-abc ", "ARG-ABC"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeLotCode(tt.in); got != tt.want {
			t.Errorf("NormalizeLotCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A code whose random part holds 0 and 1 must still validate when typed
	// with the look-alike letters.
	code, err := newLotCodeFrom("argan", bytes.NewReader([]byte{0x00, 0x44, 0x32, 0x14, 0xc7}))
	if err != nil {
		t.Fatal(err)
	}
	typed := strings.ToLower(strings.NewReplacer("0", "o", "1", "l").Replace(code))
	if !ValidLotCode(typed) {
		t.Errorf("ValidLotCode(%q) = false for a hand-typed %q", typed, code)
	}
}

// TestLotCheckCatchesEveryTypo checks the documented guarantee exhaustively on
// one code: every single substitution and every adjacent transposition of
// differing characters is rejected.
func TestLotCheckCatchesEveryTypo(t *testing.T) {
	code, err := newLotCodeFrom("olive", bytes.NewReader([]byte{0xc4, 0x1d, 0x09, 0x7b, 0x52}))
	if err != nil {
		t.Fatal(err)
	}
	if !ValidLotCode(code) {
		t.Fatalf("ValidLotCode(%q) = false", code)
	}
	substitutes := lotAlphabet + "-"
	for i := 0; i < len(code); i++ {
		for j := 0; j < len(substitutes); j++ {
			c := substitutes[j]
			if c == code[i] {
				continue
			}
			typo := code[:i] + string(c) + code[i+1:]
			if ValidLotCode(typo) {
				t.Errorf("substitution at %d: %q accepted (original %q)", i, typo, code)
			}
		}
	}
	for i := 0; i+1 < len(code); i++ {
		if code[i] == code[i+1] {
			continue
		}
		swapped := code[:i] + string(code[i+1]) + string(code[i]) + code[i+2:]
		if ValidLotCode(swapped) {
			t.Errorf("transposition at %d: %q accepted (original %q)", i, swapped, code)
		}
	}
}
