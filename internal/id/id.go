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
