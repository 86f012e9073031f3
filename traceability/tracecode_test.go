package traceability

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestValidGTIN(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"96385074", true},       // GTIN-8
		{"036000291452", true},   // GTIN-12 (UPC-A)
		{"6111245591018", true},  // GTIN-13, GS1 Morocco prefix 611
		{"4006381333931", true},  // GTIN-13
		{"10614141000415", true}, // GTIN-14
		{"00000096385074", true}, // GTIN-8 padded to 14
		{"4006381333932", false}, // wrong check digit
		{"4006381333913", false}, // adjacent transposition
		{"400638133393", false},  // GTIN-13 with its last digit dropped
		{"40063813339310", false},
		{"0000000000000", false}, // all zeros
		{"400638133393a", false},
		{"1234567", false},
		{"", false},
		{"+4006381333931", false},
	}
	for _, tt := range tests {
		if got := ValidGTIN(tt.in); got != tt.want {
			t.Errorf("ValidGTIN(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeGTIN(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"96385074", "00000096385074", false},
		{"036000291452", "00036000291452", false},
		{"6111245591018", "06111245591018", false},
		{"10614141000415", "10614141000415", false},
		{"6111245591019", "", true},
	}
	for _, tt := range tests {
		got, err := NormalizeGTIN(tt.in)
		var fe *FieldError
		if tt.wantErr != (err != nil) || (err != nil && (!errors.As(err, &fe) || fe.Field != "gtin")) {
			t.Errorf("NormalizeGTIN(%q) error = %v, want error %v on gtin", tt.in, err, tt.wantErr)
		}
		if got != tt.want {
			t.Errorf("NormalizeGTIN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseTracePath(t *testing.T) {
	tests := []struct {
		path      string
		want      TraceRef
		canonical string
		wantErr   string // substring; "" means accepted
	}{
		{"/t/SAF-7K3QX9MDT", TraceRef{Lot: "SAF-7K3QX9MDT"}, "/t/SAF-7K3QX9MDT", ""},
		{"/01/06111245591018/10/ARG-01234567X", TraceRef{GTIN: "06111245591018", Lot: "ARG-01234567X"}, "/01/06111245591018/10/ARG-01234567X", ""},
		{"/01/6111245591018/10/ARG-01234567X/21/0042", TraceRef{GTIN: "06111245591018", Lot: "ARG-01234567X", Serial: "0042"}, "/01/06111245591018/10/ARG-01234567X/21/0042", ""},
		{"/01/96385074/10/L%2F25%25", TraceRef{GTIN: "00000096385074", Lot: "L/25%"}, "/01/00000096385074/10/L%2F25%25", ""},
		{"/01/96385074/10/a(b)c!", TraceRef{GTIN: "00000096385074", Lot: "a(b)c!"}, "/01/00000096385074/10/a%28b%29c%21", ""},
		{"/t/12345678901234567890", TraceRef{Lot: "12345678901234567890"}, "/t/12345678901234567890", ""},
		{"/t/123456789012345678901", TraceRef{}, "", "lot must be 1 to 20 characters"},
		{"/t/", TraceRef{}, "", "lot must be 1 to 20 characters"},
		{"/t/SAF-1/", TraceRef{}, "", "expected /t/{lot}"},
		{"/t/SAF%20X", TraceRef{}, "", `lot contains ' '`},
		{"/t/SAF X", TraceRef{}, "", "must be percent-encoded"},
		{"/t/caf%C3%A9", TraceRef{}, "", "outside the GS1 character set 82"},
		{"/t/SAF%zz", TraceRef{}, "", "bad percent-encoding"},
		{"/t/SAF?s=abc", TraceRef{}, "", "must be percent-encoded"},
		{"/01/6111245591019/10/X", TraceRef{}, "", "gtin"},
		{"/01/06111245591018", TraceRef{}, "", "expected"},
		{"/01/06111245591018/21/0042", TraceRef{}, "", "expected"},
		{"/01/06111245591018/10/X/22/Y", TraceRef{}, "", "only /21/{serial}"},
		{"/01/06111245591018/10/X/21/", TraceRef{}, "", "serial must be 1 to 20"},
		{"/01/06111245591018/10/X/21/a/b", TraceRef{}, "", "expected"},
		{"/shop/01/06111245591018/10/X", TraceRef{}, "", "expected"},
		{"t/SAF", TraceRef{}, "", "must start with /"},
		{"", TraceRef{}, "", "must start with /"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := ParseTracePath(tt.path)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrMalformedTrace) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseTracePath() error = %v, want ErrMalformedTrace mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTracePath() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("ParseTracePath() = %+v, want %+v", got, tt.want)
			}
			if c := got.CanonicalPath(); c != tt.canonical {
				t.Errorf("CanonicalPath() = %q, want %q", c, tt.canonical)
			}
		})
	}
}

func TestSigner(t *testing.T) {
	oldKey := []byte("old-key-0123456789abcdef")
	newKey := []byte("new-key-0123456789abcdef")
	oldSigner, err := NewSigner(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := NewSigner(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	const path = "/01/06111245591018/10/ARG-01234567X"
	oldSig, newSig := oldSigner.Sign(path), rotated.Sign(path)
	if len(newSig) != 14 || strings.ContainsAny(newSig, "+/=") {
		t.Fatalf("Sign() = %q, want 14 base64url characters without padding", newSig)
	}
	if oldSig == newSig {
		t.Fatal("the rotated signer still signs with the old key")
	}
	tamperedSig := []byte(newSig)
	tamperedSig[3] ^= 1
	tests := []struct {
		name   string
		signer *Signer
		path   string
		sig    string
		want   bool
	}{
		{"own signature", rotated, path, newSig, true},
		{"label printed before rotation", rotated, path, oldSig, true},
		{"new label on an old server", oldSigner, path, newSig, false},
		{"other lot", rotated, "/01/06111245591018/10/ARG-01234567Y", newSig, false},
		{"altered signature", rotated, path, string(tamperedSig), false},
		{"padded signature", rotated, path, newSig + "=", false},
		{"truncated signature", rotated, path, newSig[:13], false},
		{"empty signature", rotated, path, "", false},
	}
	for _, tt := range tests {
		if got := tt.signer.Verify(tt.path, tt.sig); got != tt.want {
			t.Errorf("%s: Verify() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNewSignerRejectsWeakKeys(t *testing.T) {
	tests := []struct {
		name string
		keys [][]byte
	}{
		{"no key", nil},
		{"short key", [][]byte{[]byte("short")}},
		{"short second key", [][]byte{[]byte("0123456789abcdef"), []byte("")}},
	}
	for _, tt := range tests {
		if _, err := NewSigner(tt.keys...); err == nil {
			t.Errorf("%s: NewSigner() error = nil, want an error", tt.name)
		}
	}
	key := []byte("0123456789abcdef")
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	sig := s.Sign("/t/X")
	key[0] = 'X' // the caller's buffer must not be shared
	if !s.Verify("/t/X", sig) {
		t.Error("Signer changed when the caller reused its key buffer")
	}
}

func FuzzParseTracePath(f *testing.F) {
	for _, seed := range []string{
		"/t/SAF-7K3QX9MDT",
		"/01/06111245591018/10/ARG-01234567X",
		"/01/6111245591018/10/ARG-01234567X/21/0042",
		"/01/96385074/10/L%2F25%25",
		"/01/96385074/10/a(b)c!",
		"/t/%74",
		"/t/SAF%zz",
		"/%30%31/96385074/%31%30/x",
		"",
		"/",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, path string) {
		ref, err := ParseTracePath(path)
		if err != nil {
			if !errors.Is(err, ErrMalformedTrace) {
				t.Fatalf("ParseTracePath(%q) error %v does not wrap ErrMalformedTrace", path, err)
			}
			return
		}
		canonical := ref.CanonicalPath()
		again, err := ParseTracePath(canonical)
		if err != nil {
			t.Fatalf("ParseTracePath(%q) = %+v, but its canonical path %q does not parse: %v", path, ref, canonical, err)
		}
		if again != ref {
			t.Fatalf("round trip of %q: %+v, then %+v from %q", path, ref, again, canonical)
		}
		if again.CanonicalPath() != canonical {
			t.Fatalf("canonical path is not stable: %q then %q", canonical, again.CanonicalPath())
		}
	})
}

// TestASignatureHasOneSpelling: base64 leaves unused bits in the last
// character of a 10-byte signature; a lenient decoder accepted 16
// spellings of each signature (issue 14). Only the canonical one verifies.
func TestASignatureHasOneSpelling(t *testing.T) {
	s, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	path := "/01/06111234567895/10/SAF-T0PMFP9FW"
	sig := s.Sign(path)
	if !s.Verify(path, sig) {
		t.Fatal("the signature does not verify")
	}
	want, _ := base64.RawURLEncoding.DecodeString(sig)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	others := 0
	for _, c := range alphabet {
		other := sig[:len(sig)-1] + string(c)
		if other == sig {
			continue
		}
		if got, err := base64.RawURLEncoding.DecodeString(other); err == nil && bytes.Equal(got, want) {
			others++
			if s.Verify(path, other) {
				t.Errorf("%s, another spelling of %s, verifies", other, sig)
			}
		}
	}
	if others == 0 {
		t.Fatal("no other spelling found: the test checks nothing")
	}
}
