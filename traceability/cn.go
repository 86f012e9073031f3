package traceability

import (
	"strings"

	"github.com/terroir-coop/terroir/internal/problem"
)

// The Combined Nomenclature codes of the products a consignment carries:
// the one place that says which CN code a certificate of inspection gets
// for each product kind. The CN is the EU's goods nomenclature (Annex I to
// Council Regulation (EEC) No 2658/87, republished every year); its first
// six digits are the World Customs Organization's Harmonized System.
//
// What could be verified with the search tool: 0910 20 (saffron) and its
// subheadings 0910 20 10 (neither crushed nor ground) and 0910 20 90
// (crushed or ground) on an EU CN listing (etoolsage.com EUHSC, chapter 09,
// and the Czech Statistical Office's HS tables); heading 1515 ("other fixed
// vegetable fats and oils … and their fractions") and subheadings 3301 29
// and 3301 90 on HS listings. The others are from the HS 2022 text as we
// know it and are marked estimate: the exporter's customs broker confirms
// them, and a line can name another code (NewConsignmentLine.CNCode), as it
// must for crafts, which have no single heading, and for powdered saffron
// (0910 20 90). An operator updates the table here, with its source.
type CNCode struct {
	Kind        string `json:"product_kind"`
	Code        string `json:"code"` // as the nomenclature writes it: "0910 20 10"
	Description string `json:"description"`
	Source      string `json:"source"`
}

var cnCodes = []CNCode{
	{"saffron_dried", "0910 20 10", "Saffron, neither crushed nor ground (filaments)", "CN 2025, verified (EU CN listing, chapter 09)"},
	{"argan_oil", "1515 90", "Other fixed vegetable oils and their fractions (argan oil)", "HS heading 1515 verified; subheading 1515 90 estimate"},
	{"essential_oil", "3301 29", "Essential oils other than those of citrus fruit, other (rosemary…)", "HS 3301 29 verified"},
	{"hydrosol", "3301 90", "Aqueous distillates of essential oils (hydrosols)", "HS 3301 90 verified; that hydrosols fall under it is an estimate"},
	{"olive_oil", "1509 20", "Extra virgin olive oil", "HS 2022, estimate: 1509 30 for virgin, 1509 40 for other virgin"},
	{"argan_kernels", "1207 99", "Other oil seeds and oleaginous fruits (argan kernels)", "HS 2022, estimate"},
	{"pamm_dried", "1211 90", "Plants and parts of plants used in perfumery or pharmacy, dried", "HS 2022, estimate"},
	{"honey", "0409 00 00", "Natural honey", "CN, estimate"},
	{"almond", "0802 11", "Almonds, in shell", "HS 2022, estimate"},
	{"almond_kernels", "0802 12", "Almonds, shelled", "HS 2022, estimate"},
}

// CNCodes returns the table.
func CNCodes() []CNCode {
	out := make([]CNCode, len(cnCodes))
	copy(out, cnCodes)
	return out
}

// CNCodeOf returns the CN code of a product kind, if the table has one.
func CNCodeOf(kind string) (CNCode, bool) {
	for _, c := range cnCodes {
		if c.Kind == kind {
			return c, true
		}
	}
	return CNCode{}, false
}

// NormalizeCNCode writes a code given as 09102010, 0910.20.10 or 0910 20 10
// as the nomenclature does ("0910 20 10"): 4, 6 or 8 digits.
func NormalizeCNCode(field, code string) (string, error) {
	digits := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return r
		case r == ' ' || r == '.':
			return -1
		}
		return 'x'
	}, strings.TrimSpace(code))
	if strings.Contains(digits, "x") || (len(digits) != 4 && len(digits) != 6 && len(digits) != 8) {
		return "", problem.Field(field, "must be a Combined Nomenclature code of 4, 6 or 8 digits, such as 0910 20 10")
	}
	out := digits[:4]
	for i := 4; i < len(digits); i += 2 {
		out += " " + digits[i:i+2]
	}
	return out, nil
}
