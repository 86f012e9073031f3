package traceability

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/terroir-coop/terroir/internal/problem"
)

// ValidGTIN reports whether s is a GTIN-8, -12, -13 or -14: digits only, not
// all zeros, with a correct GS1 mod-10 check digit (weights 3,1,3,… from the
// digit left of the check digit, which is why padding with leading zeros
// never changes validity).
func ValidGTIN(s string) bool {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return false
	}
	sum, nonZero := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		nonZero = nonZero || d != 0
		if i == len(s)-1 {
			break
		}
		if (len(s)-2-i)%2 == 0 { // rightmost data digit weighs 3
			d *= 3
		}
		sum += d
	}
	return nonZero && (10-sum%10)%10 == int(s[len(s)-1]-'0')
}

// NormalizeGTIN validates s and pads it with leading zeros to the 14 digits
// GS1 Digital Link uses as the canonical form. Errors are *FieldError on
// "gtin".
func NormalizeGTIN(s string) (string, error) {
	if !ValidGTIN(s) {
		return "", problem.Field("gtin", "%q is not a valid GTIN-8, -12, -13 or -14 (digits with a correct check digit)", s)
	}
	return strings.Repeat("0", 14-len(s)) + s, nil
}

// ErrMalformedTrace is wrapped by every ParseTracePath error. GS1 resolver
// rules say a malformed code is answered 400, never a 200 page with an error,
// so the web layer maps exactly this error to 400.
var ErrMalformedTrace = errors.New("malformed trace path")

// TraceRef is what a QR code points at: a lot, and when the product has a
// GTIN, the GTIN (normalised to 14 digits) and optionally a unit serial.
type TraceRef struct {
	GTIN   string
	Lot    string
	Serial string
}

// maxAI10or21 is the length limit of GS1 AI 10 (batch/lot) and AI 21 (serial).
const maxAI10or21 = 20

// ParseTracePath parses the path of a scanned trace URL. It takes the escaped
// path (http.Request.URL.EscapedPath()), not the decoded one: a lot may
// contain "/" or "%", which only the escaped form keeps unambiguous. Accepted:
//
//	/t/{lot}
//	/01/{gtin}/10/{lot}
//	/01/{gtin}/10/{lot}/21/{serial}
//
// Segments are percent-decoded as GS1 Digital Link requires; lot and serial
// must then be 1 to 20 characters of the GS1 AI character set 82. Lot codes
// are not normalised: GS1 values are case-sensitive, and lookups may apply
// NormalizeLotCode themselves. Other Digital Link forms (a path prefix, AI 22,
// short names like /gtin/) are not used by our labels and are rejected.
// Every error wraps ErrMalformedTrace.
func ParseTracePath(path string) (TraceRef, error) {
	if !strings.HasPrefix(path, "/") {
		return TraceRef{}, malformedTrace("path must start with /")
	}
	segments := strings.Split(path[1:], "/")
	for i, raw := range segments {
		decoded, err := decodeTraceSegment(raw)
		if err != nil {
			return TraceRef{}, err
		}
		segments[i] = decoded
	}
	switch {
	case len(segments) == 2 && segments[0] == "t":
		lot, err := checkAIValue("lot", segments[1])
		return TraceRef{Lot: lot}, err
	case (len(segments) == 4 || len(segments) == 6) && segments[0] == "01" && segments[2] == "10":
		gtin, err := NormalizeGTIN(segments[1])
		if err != nil {
			return TraceRef{}, malformedTrace("gtin " + err.(*FieldError).Message)
		}
		ref := TraceRef{GTIN: gtin}
		if ref.Lot, err = checkAIValue("lot", segments[3]); err != nil {
			return TraceRef{}, err
		}
		if len(segments) == 6 {
			if segments[4] != "21" {
				return TraceRef{}, malformedTrace("after the lot only /21/{serial} is accepted")
			}
			if ref.Serial, err = checkAIValue("serial", segments[5]); err != nil {
				return TraceRef{}, err
			}
		}
		return ref, nil
	}
	return TraceRef{}, malformedTrace("expected /t/{lot} or /01/{gtin}/10/{lot}[/21/{serial}]")
}

func malformedTrace(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformedTrace, reason)
}

// decodeTraceSegment percent-decodes one path segment. Raw bytes must be
// printable ASCII other than '?' and '#', which cannot occur in an escaped
// path and would mean the caller passed something else.
func decodeTraceSegment(raw string) (string, error) {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '?' || c == '#' {
			return "", malformedTrace(fmt.Sprintf("character %q must be percent-encoded", c))
		}
	}
	decoded, err := url.PathUnescape(raw)
	if err != nil {
		return "", malformedTrace("bad percent-encoding")
	}
	return decoded, nil
}

// checkAIValue enforces the GS1 AI 10/21 syntax: 1 to 20 characters of the
// character set 82.
func checkAIValue(name, v string) (string, error) {
	if v == "" || len(v) > maxAI10or21 {
		return "", malformedTrace(fmt.Sprintf("%s must be 1 to %d characters", name, maxAI10or21))
	}
	for i := 0; i < len(v); i++ {
		if !inGS1CharSet82(v[i]) {
			return "", malformedTrace(fmt.Sprintf("%s contains %q, outside the GS1 character set 82", name, v[i]))
		}
	}
	return v, nil
}

// inGS1CharSet82 reports whether c is in GS1 AI encodable character set 82:
// digits, letters, and ! " % & ' ( ) * + , - . / : ; < = > ? _
func inGS1CharSet82(c byte) bool {
	switch {
	case c >= '0' && c <= '9', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		return true
	}
	return strings.IndexByte(`!"%&'()*+,-./:;<=>?_`, c) >= 0
}

// CanonicalPath returns the one path that is signed and printed for r: the
// Digital Link form with the GTIN padded to 14 digits when r has a GTIN, else
// /t/{lot}. Every byte of lot and serial other than letters, digits, '-',
// '.' and '_' is percent-encoded with upper-case hex, so that equal refs
// always give byte-equal paths (and equal signatures). A serial without a
// GTIN has no path form and is dropped; ParseTracePath never produces one.
func (r TraceRef) CanonicalPath() string {
	if r.GTIN == "" {
		return "/t/" + escapeTraceValue(r.Lot)
	}
	gtin := r.GTIN
	if padded, err := NormalizeGTIN(gtin); err == nil {
		gtin = padded
	}
	p := "/01/" + gtin + "/10/" + escapeTraceValue(r.Lot)
	if r.Serial != "" {
		p += "/21/" + escapeTraceValue(r.Serial)
	}
	return p
}

func escapeTraceValue(v string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '.' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}

// Trace signatures are the first 10 bytes (80 bits) of HMAC-SHA256: short
// enough to keep the QR code small, and far beyond what online guessing
// against the trace page can reach.
const traceSignatureBytes = 10

// minTraceKeyBytes refuses keys too short to be secret (128 bits).
const minTraceKeyBytes = 16

// Signer signs and verifies canonical trace paths with TERROIR_QR_KEY. The
// first key signs; every key verifies, so a key can be rotated by putting
// the new one first while printed labels signed with the old one still
// verify. A Signer is immutable and safe for concurrent use.
type Signer struct {
	keys [][]byte
}

// NewSigner returns a Signer over copies of keys. It fails when no key is
// given or a key is shorter than 16 bytes.
func NewSigner(keys ...[]byte) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("trace signer: at least one key is required")
	}
	s := &Signer{keys: make([][]byte, len(keys))}
	for i, k := range keys {
		if len(k) < minTraceKeyBytes {
			return nil, fmt.Errorf("trace signer: key %d is %d bytes, want at least %d", i+1, len(k), minTraceKeyBytes)
		}
		s.keys[i] = append([]byte(nil), k...)
	}
	return s, nil
}

// Sign returns the ?s= value for a canonical path (TraceRef.CanonicalPath):
// base64url without padding of the truncated HMAC, 14 characters.
func (s *Signer) Sign(path string) string {
	return base64.RawURLEncoding.EncodeToString(traceMAC(s.keys[0], path))
}

// Verify reports whether sig is the signature of path under any key. The
// comparison is constant-time and every key is tried, so timing reveals
// neither the signature nor which key matched.
func (s *Signer) Verify(path, sig string) bool {
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig) // one spelling per signature: the unused low bits of the last character must be zero
	if err != nil || len(got) != traceSignatureBytes {
		return false
	}
	ok := false
	for _, k := range s.keys {
		if hmac.Equal(got, traceMAC(k, path)) {
			ok = true
		}
	}
	return ok
}

func traceMAC(key []byte, path string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(path))
	return m.Sum(nil)[:traceSignatureBytes]
}
