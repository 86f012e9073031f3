package i18n_test

import (
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
)

func bundle(t *testing.T) *i18n.Bundle {
	t.Helper()
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPluralsFollowCLDR(t *testing.T) {
	b := bundle(t)
	tests := []struct {
		lang string
		n    int
		want string
	}{
		{"fr", 0, "0 femme"}, // French: 0 and 1 are "one"
		{"fr", 1, "1 femme"},
		{"fr", 2, "2 femmes"},
		{"en", 1, "1 woman"},
		{"en", 0, "0 women"},
		{"en", 21, "21 women"},
		// Arabic has the six forms: zero, one, two, few (3–10), many (11–99), other (100…).
		{"ar", 0, "لا نساء"},
		{"ar", 1, "امرأة واحدة"},
		{"ar", 2, "امرأتان"},
		{"ar", 3, "3 نساء"},
		{"ar", 10, "10 نساء"},
		{"ar", 11, "11 امرأة"},
		{"ar", 99, "99 امرأة"},
		{"ar", 100, "100 امرأة"},
		{"ar", 103, "103 نساء"}, // 103 is "few" again (n mod 100 in 3..10)
	}
	for _, tt := range tests {
		if got := b.Locale(tt.lang).T("women_count", tt.n); got != tt.want {
			t.Errorf("%s %d: %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
	if got := b.Locale("fr").T("cat_count", 2); got != "2 produits" {
		t.Errorf("cat_count 2: %q", got)
	}
}

func TestNegotiationHonoursQualityValues(t *testing.T) {
	b := bundle(t)
	tests := []struct{ query, cookie, accept, want string }{
		{"", "", "en;q=0.3, ar-MA;q=0.8, de", "ar"},
		{"", "", "de-DE, en-GB;q=0.9, fr;q=0.5", "en"},
		{"", "", "de, it", "fr"},
		{"", "", "", "fr"},
		{"", "", "fr-MA,fr;q=0.9", "fr"},
		{"", "ar", "en", "ar"},
		{"en", "ar", "fr", "en"},
		{"xx", "", "ar", "ar"}, // an unknown ?lang= is ignored
	}
	for _, tt := range tests {
		if got := b.Negotiate(tt.query, tt.cookie, tt.accept).Code(); got != tt.want {
			t.Errorf("Negotiate(%q, %q, %q) = %s, want %s", tt.query, tt.cookie, tt.accept, got, tt.want)
		}
	}
}

func TestMoneyAndNumbersPerLocale(t *testing.T) {
	b := bundle(t)
	tests := []struct {
		lang, currency string
		amount         int64
		want           string
	}{
		{"fr", "MAD", 18000, "180,00\u00a0DH"},
		{"fr", "EUR", 1250, "12,50\u00a0€"},
		{"fr", "MAD", 123450, "1\u00a0234,50\u00a0DH"},
		{"en", "MAD", 18000, "MAD 180.00"},
		{"en", "EUR", 123450, "€1,234.50"},
		{"ar", "MAD", 18000, "180,00\u00a0درهم"},
		{"ar", "MAD", 123450, "1.234,50\u00a0درهم"},
		{"fr", "EUR", -5, "-0,05\u00a0€"},
		{"fr", "USD", 100, "1,00\u00a0USD"},
	}
	for _, tt := range tests {
		if got := b.Locale(tt.lang).Money(tt.amount, tt.currency); got != tt.want {
			t.Errorf("%s %d %s: %q, want %q", tt.lang, tt.amount, tt.currency, got, tt.want)
		}
	}
	// Exact far beyond float64's 2^53 cents.
	if got := b.Locale("en").Money(9_007_199_254_740_993, "EUR"); got != "€90,071,992,547,409.93" {
		t.Errorf("large amount: %q", got)
	}
}

func TestDomainErrorsInThePagesLanguage(t *testing.T) {
	b := bundle(t)
	err := problem.Field("quantity", "amount must be a positive whole number, got %d", -5)
	for lang, want := range map[string]string{
		"fr": "Quantité : la quantité doit être un nombre entier positif (vous avez saisi -5)",
		"ar": "الكمية: يجب أن تكون الكمية عددًا صحيحًا موجبًا (أدخلت \u200e-5)", // ar-MA marks a minus sign left-to-right,
		"en": "Quantity: amount must be a positive whole number, got -5",
	} {
		if got := b.Locale(lang).Message(err); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	if err.Message != "amount must be a positive whole number, got -5" || err.Args[0] != -5 {
		t.Fatalf("translating changed the error: %+v", err)
	}
	// Terms are named in the language; rows are counted from 1.
	k := problem.Field("lines[1].units", "%s is counted in %s (%s), not %s", problem.Kind("saffron_dried"), problem.Dimension("mass"), "mg", problem.Dimension("count"))
	if got := b.Locale("fr").Message(k); got != "Unités (ligne 2) : Safran séché se compte en masse (mg), pas en pièces" {
		t.Errorf("terms: %q", got)
	}
	if strings.Contains(k.Message, "Safran") {
		t.Errorf("the English message must keep the codes: %q", k.Message)
	}
	// Not a problem: an internal error is never shown.
	if got := b.Locale("fr").Message(errInternal{}); strings.Contains(got, "secret") {
		t.Errorf("internal error shown: %q", got)
	}
}

type errInternal struct{}

func (errInternal) Error() string { return "secret database detail" }

func TestAMissingKeyFallsBackToEnglishNotToNothing(t *testing.T) {
	b := bundle(t)
	if got := b.Locale("fr").T("no such key %d", 3); got != "no such key 3" {
		t.Errorf("missing key: %q", got)
	}
	if got := b.Locale("ar").Kind("not_a_kind"); got != "not_a_kind" {
		t.Errorf("unknown kind: %q", got)
	}
}

func TestLanguagesDefaultFirst(t *testing.T) {
	b := bundle(t)
	var codes []string
	for _, l := range b.Languages() {
		codes = append(codes, l.Code())
	}
	if strings.Join(codes, " ") != "fr ar en" || b.Locale("ar").Dir() != "rtl" || b.Locale("fr").Name() != "Français" {
		t.Fatalf("languages %v", codes)
	}
}

func TestQuantitiesInThePagesLanguage(t *testing.T) {
	b := bundle(t)
	tests := []struct {
		lang   string
		amount int64
		unit   traceability.Unit
		want   string
	}{
		{"fr", 1_250_000, traceability.Milligram, "1,25 kg"},
		{"fr", 1_000_001, traceability.Milligram, "1\u00a0000,001 g"},
		{"fr", 500, traceability.Milligram, "500 mg"},
		{"fr", 6_500, traceability.Millilitre, "6,5 l"},
		{"fr", 1, traceability.Piece, "1 pièce"},
		{"fr", 250, traceability.Piece, "250 pièces"},
		{"en", 1_250_000, traceability.Milligram, "1.25 kg"},
		{"en", 250, traceability.Piece, "250 pieces"},
		{"en", 1, traceability.Piece, "1 piece"},
		{"ar", 1_250_000, traceability.Milligram, "1,25 كغ"},
		{"ar", 300_000, traceability.Milligram, "300 غ"},
		{"ar", 250, traceability.Millilitre, "250 مل"},
		{"ar", 1, traceability.Piece, "قطعة واحدة"},
		{"ar", 2, traceability.Piece, "قطعتان"},
		{"ar", 3, traceability.Piece, "3 قطع"},
		{"ar", 11, traceability.Piece, "11 قطعة"},
		{"ar", 250, traceability.Piece, "250 قطعة"},
		{"fr", 1_050, traceability.Milligram, "1,05 g"}, // a leading zero of the fraction is kept
		{"fr", 7, "box", "7 box"},                       // a unit the catalogue does not name: as stored
	}
	for _, tt := range tests {
		if got := b.Locale(tt.lang).Quantity(tt.amount, tt.unit); got != tt.want {
			t.Errorf("%s %d %s: %q, want %q", tt.lang, tt.amount, tt.unit, got, tt.want)
		}
	}
	// In a message, an Amount is the English symbol in the API's text and
	// the language's on a page.
	err := problem.Field("units", "lot %s has %s available", "SAF-1", traceability.Amount{Amount: 40, Unit: traceability.Piece})
	if err.Message != "lot SAF-1 has 40 pcs available" {
		t.Errorf("English message: %q", err.Message)
	}
	if got := b.Locale("fr").T(err.MessageKey(), err.Args...); !strings.Contains(got, "40 pièces") {
		t.Errorf("French message: %q", got)
	}
	for _, lang := range []string{"fr", "ar"} {
		for _, n := range []int64{0, 1, 2, 5, 12, 250} {
			if got := b.Locale(lang).Quantity(n, traceability.Piece); strings.Contains(got, "pcs") {
				t.Errorf("%s: %d pieces written %q", lang, n, got)
			}
		}
	}
}
