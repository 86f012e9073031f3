// Package id makes and reads the identifiers the network shares: random
// document IDs with a readable prefix, and the codes of organisations
// (cooperatives, shops and channels), which are their identity.
//
// Invariants: an ID has 80 random bits, so instances and offline clients
// create them without coordination; a code is upper-case, 2 to 32 letters,
// digits or dashes, and never changes once a document carries it.
package id

import (
	"crypto/rand"
	"encoding/base32"
	"regexp"
	"strings"

	"github.com/terroir-coop/terroir/internal/problem"
)

var encoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// New returns a random identifier with a readable prefix ("mbr_…").
func New(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // never fails on supported platforms (Go 1.24+)
	return prefix + "_" + strings.ToLower(encoding.EncodeToString(b))
}

var codePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)

// NormalizeCode upper-cases and trims an organisation code, so "tiwizwine"
// and "TIWIZWINE" name the same cooperative.
func NormalizeCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// ValidateCode checks an organisation code (cooperative or shop) given in
// field: an Invalid problem naming the field when it is not one.
func ValidateCode(field, code string) error {
	if !codePattern.MatchString(code) {
		return problem.Field(field, "must be 2 to 32 letters, digits or dashes, starting with a letter or digit")
	}
	return nil
}

// Number is how an ID is written for people — on a receipt, an order page,
// an e-mail: its random part in capitals, in groups of four
// ("ord_tstqrj1bhvgfrb57" → "TSTQ-RJ1B-HVGF-RB57"), without the prefix that
// only the software needs. The alphabet has no I, L, O or U, so a number
// read aloud or copied by hand is not mistaken; FromNumber reads it back.
func Number(id string) string {
	_, body, ok := strings.Cut(id, "_")
	if !ok {
		body = id
	}
	body = strings.ToUpper(body)
	var b strings.Builder
	for i, r := range body {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// FromNumber is the ID with this prefix that Number wrote as number:
// dashes and spaces dropped, the Crockford look-alikes folded (O→0, I and
// L→1). It does not check that such a document exists.
func FromNumber(prefix, number string) string {
	s := strings.ToLower(strings.NewReplacer("-", "", " ", "", "O", "0", "o", "0", "I", "1", "i", "1", "L", "1", "l", "1").Replace(strings.TrimSpace(number)))
	return prefix + "_" + s
}
