package traceability

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"
)

// Lot codes look like "SAF-7K3QX9MD" followed by one check character, e.g.
// "SAF-7K3QX9MDT": 13 characters, well under the 20 that GS1 AI 10 (batch/lot)
// allows, so the same code prints in a GS1 Digital Link and is typed at a till.
//
//   - Alphabet: Crockford base32 (0-9 and A-Z without I, L, O, U), upper case,
//     so a code read aloud or copied by hand has no 0/O or 1/I/L ambiguity.
//     NormalizeLotCode folds the ambiguous letters back as Crockford does.
//   - Prefix: exactly three characters naming the product kind (LotPrefix).
//     Prefixes are chosen inside the alphabet: "OLV", "HON", "ALM" or "OTH"
//     would contain O, L or I and be rewritten by normalisation, so olive is
//     "ZYT" (zaytoun), honey "HNY", almond "AMD" (amande), other "GEN". The
//     prefix length is fixed so the dash cannot move without being noticed.
//   - Random part: at least 8 characters (40 bits) from crypto/rand. Codes are
//     the lot's _id, so the store's unique index is what guarantees
//     uniqueness; on a duplicate-key error the caller draws again. With 40
//     bits, 10 000 lots collide with probability about 5e-5 per draw set.
//   - Check character: see lotCheckValue.
const (
	lotAlphabet     = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	lotPrefixLen    = 3
	lotRandomChars  = 8
	lotMinBodyChars = lotRandomChars + 1 // random part + check character
	lotMaxLen       = 20                 // GS1 AI 10
)

// LotPrefix returns the three-character prefix used in lot codes for a
// product kind. Matching ignores case and surrounding spaces and accepts the
// obvious derived kinds (argan_oil is still argan). Unknown kinds get "GEN"
// rather than an error: the prefix is a reading aid, not an identifier.
func LotPrefix(kind string) string {
	k := strings.ToLower(strings.TrimSpace(kind))
	switch {
	case strings.HasPrefix(k, "saffron"):
		return "SAF"
	case strings.HasPrefix(k, "argan"):
		return "ARG"
	case strings.HasPrefix(k, "olive"):
		return "ZYT"
	case strings.HasPrefix(k, "pamm"), k == "essential_oil", k == "hydrosol":
		return "PAM"
	case strings.HasPrefix(k, "honey"):
		return "HNY"
	case strings.HasPrefix(k, "almond"):
		return "AMD"
	case strings.HasPrefix(k, "craft"):
		return "CRA"
	}
	return "GEN"
}

// NewLotCode returns a fresh lot code for a product kind. The error is that
// of the system random source; callers must also retry on a duplicate key
// when inserting, since uniqueness is only probable.
func NewLotCode(kind string) (string, error) {
	return newLotCodeFrom(kind, rand.Reader)
}

func newLotCodeFrom(kind string, random io.Reader) (string, error) {
	var raw [5]byte // 40 bits = exactly 8 base32 characters
	if _, err := io.ReadFull(random, raw[:]); err != nil {
		return "", fmt.Errorf("lot code: reading random bits: %w", err)
	}
	bits := uint64(raw[0])<<32 | uint64(raw[1])<<24 | uint64(raw[2])<<16 | uint64(raw[3])<<8 | uint64(raw[4])
	var b strings.Builder
	b.WriteString(LotPrefix(kind))
	b.WriteByte('-')
	for i := lotRandomChars - 1; i >= 0; i-- {
		b.WriteByte(lotAlphabet[(bits>>(5*uint(i)))&31])
	}
	code := b.String()
	return code + string(lotAlphabet[lotCheckValue(code)]), nil
}

// NormalizeLotCode turns what someone typed into the canonical form: spaces
// trimmed, upper case, and the Crockford look-alikes folded (O→0, I and L→1).
// It does not validate; use ValidLotCode.
func NormalizeLotCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(s)
}

// ValidLotCode reports whether s, once normalised, is a well-formed lot code:
// a three-character prefix, a dash, 9 to 16 alphabet characters, at most 20
// characters in all, and a correct check character. It says nothing about
// whether the lot exists.
func ValidLotCode(s string) bool {
	s = NormalizeLotCode(s)
	if len(s) > lotMaxLen || len(s) < lotPrefixLen+1+lotMinBodyChars || s[lotPrefixLen] != '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i != lotPrefixLen && strings.IndexByte(lotAlphabet, s[i]) < 0 {
			return false
		}
	}
	// Running the check over the whole code, check character included, ends
	// at zero exactly when the check character is right.
	return lotCheckValue(s) == 0
}

// lotCheckValue computes the check over every alphabet character of s (the
// dash is skipped; its position is checked structurally).
//
// Algorithm: each character is its value 0..31 in lotAlphabet, read as an
// element of the field GF(32) = GF(2)[x]/(x^5 + x^2 + 1). With α = x the
// running value is r ← α·r + v (Horner), so r = Σ α^(n-1-i)·v_i. The check
// character is c = α·r, which makes the same run over code‖c end at 0. This
// is a Damm-style scheme whose quasigroup is a∘b = α·a + b, and it detects:
//   - every single substitution: it changes r by α^k·δ ≠ 0;
//   - every transposition of two different characters at distance d, adjacent
//     or not: it changes r by α^k·(α^d + 1)·(a + b), and α^d ≠ 1 for
//     0 < d < 31 because α has order 31 (31 is prime), while codes are at
//     most 19 characters without the dash.
//
// Crockford's own mod-37 check was not used: it needs five extra symbols
// (* ~ $ = U) that are awkward to type, print and read aloud.
func lotCheckValue(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			continue
		}
		r = gf32TimesAlpha(r) ^ strings.IndexByte(lotAlphabet, s[i])
	}
	return gf32TimesAlpha(r)
}

// gf32TimesAlpha multiplies v by x in GF(2)[x]/(x^5 + x^2 + 1).
func gf32TimesAlpha(v int) int {
	v <<= 1
	if v&0x20 != 0 {
		v ^= 0x25
	}
	return v
}
