package traceability

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a random identifier with a readable prefix ("mbr_…"): 80
// random bits, so IDs can be created offline or on several instances
// without coordination.
func NewID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // never fails on supported platforms (Go 1.24+)
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(b))
}
