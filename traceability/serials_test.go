package traceability

import (
	"strconv"
	"strings"
	"testing"
)

// gs1PrimaryAndQualifierAIs are the AIs a GS1 Digital Link path can hold,
// and the two-digit AIs: values a parser may take a path segment for.
var gs1PrimaryAndQualifierAIs = []string{"00", "01", "02", "10", "11", "12", "13", "15", "16", "17", "20", "21", "22",
	"235", "253", "254", "255", "401", "402", "414", "417", "7040", "8003", "8004", "8006", "8010", "8011", "8013",
	"8017", "8018", "8019", "8020", "90", "91", "92", "93", "94", "95", "96", "97", "98", "99"}

// TestUnitSerialsCannotReadAsAnAI holds the serial rule: a lot packed now
// numbers its units U1 … U{n}: a letter first (no serial is all digits,
// so none is an application identifier) and no leading zero (so GS1
// Digital Link compression keeps it as it is).
func TestUnitSerialsCannotReadAsAnAI(t *testing.T) {
	for _, q := range []int64{1, 9, 10, 99, 100, 253, 1000, 8020, 10000} {
		l := Lot{Quantity: q, Serials: true, SerialForm: serialFormOf(true)}
		for i := int64(1); i <= q; i++ {
			s := l.SerialOf(i)
			digits, ok := strings.CutPrefix(s, "U")
			if !ok || digits == "" || digits[0] == '0' || digits != strconv.FormatInt(i, 10) {
				t.Fatalf("quantity %d: serial %d is %q", q, i, s)
			}
			for _, ai := range gs1PrimaryAndQualifierAIs {
				if s == ai {
					t.Fatalf("serial %q is AI %s", s, ai)
				}
			}
			if !l.HasSerial(s) {
				t.Fatalf("quantity %d: %q is not a serial of the lot", q, s)
			}
		}
	}
	l := Lot{Quantity: 30, Serials: true, SerialForm: SerialsUnit}
	for _, s := range []string{"", "U0", "U31", "U07", "7", "07", "u7", "U+7", "U 7", "UU7", "U7x"} {
		if l.HasSerial(s) {
			t.Errorf("%q taken for a serial of U1…U30", s)
		}
	}
}

// TestLotsPackedBeforeKeepTheirSerials: labels printed before the rule
// carry zero-padded serials (01 … 30); their lots have no serial form
// stored and keep resolving as printed.
func TestLotsPackedBeforeKeepTheirSerials(t *testing.T) {
	l := Lot{Quantity: 30, Serials: true}
	if l.SerialOf(7) != "07" || l.SerialOf(30) != "30" || !l.HasSerial("07") || !l.HasSerial("30") {
		t.Errorf("legacy serials: %s %s", l.SerialOf(7), l.SerialOf(30))
	}
	for _, s := range []string{"7", "U7", "31", "00"} {
		if l.HasSerial(s) {
			t.Errorf("%q taken for a serial of 01…30", s)
		}
	}
	if serialFormOf(false) != "" {
		t.Error("a lot without serials has a serial form")
	}
}
