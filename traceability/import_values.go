package traceability

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Values in register files are written as people write them in Morocco and
// France: decimal commas, spaces between thousands, dd/mm/yyyy dates, genders
// and crops in French, English or Arabic, Arabic-Indic digits. The parsers
// below accept those forms and nothing ambiguous: 1,250 is one and a quarter
// (a decimal comma), never one thousand two hundred and fifty, because the
// files this reads are French spreadsheets, and 03/04/2025 is the 3rd of
// April, never March the 4th.

// westernDigits turns Arabic-Indic and Persian digits and the Arabic decimal
// and thousands separators into their ASCII forms.
func westernDigits(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 0x0660 && r <= 0x06F9 }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0x0660 && r <= 0x0669:
			r = '0' + (r - 0x0660)
		case r >= 0x06F0 && r <= 0x06F9:
			r = '0' + (r - 0x06F0)
		case r == 0x066B: // Arabic decimal separator
			r = ','
		case r == 0x066C: // Arabic thousands separator
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

var (
	plainNumber = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
	digitGroups = regexp.MustCompile(`^[0-9]{1,3}([.,][0-9]{3})+$`)
)

// parseDecimal reads a number written with a decimal comma or point and
// spaces (also non-breaking ones, as French spreadsheets write them) between
// thousands. When both a point and a comma appear, the last one is the
// decimal separator and the other must group thousands ("1.234,5"); one
// separator repeated groups thousands ("1.234.567"); one alone is decimal.
// It returns false for anything else.
func parseDecimal(s string) (*big.Rat, bool) {
	s = westernDigits(strings.TrimSpace(s))
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\u2009' || r == '\'' || r == '’' {
			return -1
		}
		return r
	}, s)
	if plainNumber.MatchString(s) {
		r, ok := new(big.Rat).SetString(s)
		return r, ok
	}
	sign := ""
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		sign, s = s[:1], s[1:]
	}
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return !(r >= '0' && r <= '9') && r != '.' && r != ',' }) {
		return nil, false
	}
	whole, frac := s, ""
	lastDot, lastComma := strings.LastIndex(s, "."), strings.LastIndex(s, ",")
	switch {
	case lastDot >= 0 && lastComma >= 0:
		sep := max(lastDot, lastComma)
		whole, frac = s[:sep], s[sep+1:]
		if !digitGroups.MatchString(whole) {
			return nil, false
		}
	case strings.Count(s, ".")+strings.Count(s, ",") > 1:
		if !digitGroups.MatchString(s) || (strings.Contains(s, ".") && strings.Contains(s, ",")) {
			return nil, false
		}
	case lastDot >= 0:
		whole, frac = s[:lastDot], s[lastDot+1:]
	case lastComma >= 0:
		whole, frac = s[:lastComma], s[lastComma+1:]
	}
	whole = strings.NewReplacer(".", "", ",", "").Replace(whole)
	if whole == "" {
		whole = "0"
	}
	if strings.ContainsAny(frac, ".,") || (frac == "" && (lastDot == len(s)-1 || lastComma == len(s)-1)) {
		return nil, false
	}
	text := sign + whole
	if frac != "" {
		text += "." + frac
	}
	r, ok := new(big.Rat).SetString(text)
	return r, ok
}

// splitNumberUnit separates a trailing unit from a cell ("0,12 ha",
// "1200m²", "1,5 kg"). The unit is "" when the cell is only a number.
func splitNumberUnit(s string) (number, unit string) {
	s = strings.TrimSpace(westernDigits(s))
	i := strings.LastIndexFunc(s, func(r rune) bool { return unicode.IsDigit(r) })
	if i < 0 || i == len(s)-1 {
		return s, ""
	}
	return strings.TrimSpace(s[:i+1]), strings.TrimSpace(s[i+1:])
}

// monthNames maps French and English month names and their usual
// abbreviations (folded) to months.
func monthByName(s string) (time.Month, bool) {
	s = strings.TrimSuffix(foldText(s), " ")
	for m, names := range [12][]string{
		{"janvier", "janv", "jan", "january"}, {"fevrier", "fevr", "fev", "feb", "february"}, {"mars", "mar", "march"},
		{"avril", "avr", "apr", "april"}, {"mai", "may"}, {"juin", "jun", "june"},
		{"juillet", "juil", "jul", "july"}, {"aout", "aug", "august"}, {"septembre", "sept", "sep", "september"},
		{"octobre", "oct", "october"}, {"novembre", "nov", "november"}, {"decembre", "dec", "december"},
	} {
		for _, n := range names {
			if s == n {
				return time.Month(m + 1), true
			}
		}
	}
	return 0, false
}

var (
	isoDate     = regexp.MustCompile(`^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?:[T ].*)?$`)
	dayFirst    = regexp.MustCompile(`^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{2}|[0-9]{4})(?: .*)?$`)
	spelledDate = regexp.MustCompile(`^([0-9]{1,2})(?:er)?[ -]+([^0-9 ]+)\.?[ -]+([0-9]{4})$`)
)

// parseDate reads a calendar date as written in Morocco and France —
// 15/11/2025, 15-11-2025, 15.11.2025, 15/11/25, 15 novembre 2025 — or as
// ISO 8601 (2025-11-15, also with a time, which is dropped), and returns it
// as YYYY-MM-DD. Two-digit years are 20yy. A spreadsheet's date cell is its
// serial day number (serial true; date1904 selects the Mac epoch).
func parseDate(s string, serial, date1904 bool) (string, bool) {
	s = strings.TrimSpace(westernDigits(s))
	if serial {
		if days, err := strconv.ParseFloat(s, 64); err == nil && days >= 1 && days < 2958466 {
			epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
			if date1904 {
				epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			return epoch.AddDate(0, 0, int(days)).Format(time.DateOnly), true
		}
	}
	var y, m, d int
	if g := isoDate.FindStringSubmatch(s); g != nil {
		y, m, d = atoi(g[1]), atoi(g[2]), atoi(g[3])
	} else if g := dayFirst.FindStringSubmatch(s); g != nil {
		d, m, y = atoi(g[1]), atoi(g[2]), atoi(g[3])
		if len(g[3]) == 2 {
			y += 2000
		}
	} else if g := spelledDate.FindStringSubmatch(s); g != nil {
		month, ok := monthByName(g[2])
		if !ok {
			return "", false
		}
		d, m, y = atoi(g[1]), int(month), atoi(g[3])
	} else {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d || y < 1900 {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// foldWords folds a value and takes the Arabic article off its words, the
// form gender, crop and place names are compared in.
func foldWords(s string) string {
	words := strings.Fields(foldText(s))
	for i, w := range words {
		if strings.HasPrefix(w, "ال") && len([]rune(w)) > 3 {
			words[i] = strings.TrimPrefix(w, "ال")
		}
	}
	return strings.Join(words, " ")
}

// parseGender reads a gender as cooperatives write it (F, femme, féminin,
// female, أنثى, Mme…; H, M, homme, male, ذكر, M.…).
func parseGender(s string) (string, bool) {
	switch foldWords(s) {
	case "f", "femme", "femmes", "feminin", "feminine", "female", "woman", "women", "mme", "madame", "mlle", "mademoiselle", "fille", "انثي", "امراه", "سيده", "نساء", "مراه":
		return "female", true
	case "m", "h", "homme", "hommes", "masculin", "male", "man", "men", "mr", "monsieur", "ذكر", "رجل", "رجال":
		return "male", true
	}
	return "", false
}

// parseCrop reads a crop in French, English or Arabic. The aromatic and
// medicinal plants the network distils (rosemary, thyme, lavender…) are
// the crop pamm.
func parseCrop(s string) (string, bool) {
	f := foldWords(s)
	for _, c := range Crops {
		if f == c {
			return c, true
		}
	}
	switch f {
	case "safran", "zafran", "zaafran", "زعفران":
		return "saffron", true
	case "argane", "arganier", "arganiers", "argan tree", "اركان", "ارغان":
		return "argan", true
	case "olives", "olivier", "oliviers", "olive tree", "olive trees", "زيتون":
		return "olive", true
	case "ppam", "pam", "ppm", "plantes aromatiques", "plantes aromatiques medicinales", "plantes aromatiques medicinales melliferes",
		"aromatic plants", "medicinal plants", "romarin", "rosemary", "thym", "thyme", "origan", "oregano", "lavande", "lavender",
		"verveine", "menthe", "mint", "armoise", "absinthe", "اكليل جبل", "ازير", "زعتر", "نباتات عطريه", "نباتات عطريه طبيه", "نباتات طبيه", "خزامي":
		return "pamm", true
	case "roses", "rosier", "rosiers", "rose damas", "rose de damas", "damask rose", "ورد", "ورود", "ورد بلدي":
		return "rose", true
	case "miel", "abeilles", "rucher", "ruchers", "apiculture", "عسل", "نحل":
		return "honey", true
	case "amande", "amandes", "amandier", "amandiers", "almonds", "almond tree", "almond trees", "لوز":
		return "almond", true
	}
	return "", false
}

// parseProductKind reads a product kind: a crop as parseCrop does, a kind's
// own name (argan_oil), or its French name (huile d'argan).
func parseProductKind(s string) (string, bool) {
	if k := strings.ToLower(strings.TrimSpace(s)); productKinds[k] != "" {
		return k, true
	}
	if c, ok := parseCrop(s); ok {
		return c, true
	}
	switch foldWords(s) {
	case "safran seche", "safran sec", "dried saffron":
		return "saffron_dried", true
	case "amandons", "noix argan", "argan kernels":
		return "argan_kernels", true
	case "huile argan", "huile d argan", "argan oil", "زيت اركان":
		return "argan_oil", true
	case "huile olive", "huile d olive", "olive oil", "زيت زيتون":
		return "olive_oil", true
	case "huile essentielle", "huiles essentielles", "essential oil", "essential oils", "زيت عطري", "زيوت عطريه":
		return "essential_oil", true
	case "hydrolat", "hydrolats", "eau florale", "eaux florales", "hydrosol", "hydrosols", "ماء ورد", "ماء زهر":
		return "hydrosol", true
	case "ppam seches", "plantes sechees", "dried pamm", "dried herbs":
		return "pamm_dried", true
	case "amandes decortiquees", "almond kernels", "cerneaux amande":
		return "almond_kernels", true
	case "artisanat", "crafts", "broderie", "couture", "tricot", "poterie", "صناعه تقليديه":
		return "crafts", true
	}
	return "", false
}

// splitList splits a cell that lists several values: "saffron, saffron_dried",
// "P-01; P-02", "safran / huile".
func splitList(s string) []string {
	var out []string
	for _, v := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '/' || r == '|' || r == '\n' || r == '،' }) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// areaToM2 converts a declared area to whole square metres, rounded to the
// nearest: declared areas are estimates, and a hectare with four decimals
// is already a square metre.
func areaToM2(v *big.Rat, unit string) (int64, bool) {
	factor := map[string]int64{"m2": 1, "a": 100, "ha": 10_000}[unit]
	if factor == 0 {
		return 0, false
	}
	m2 := new(big.Rat).Mul(v, new(big.Rat).SetInt64(factor))
	// Round half up: (num*2 + den) / (den*2).
	num := new(big.Int).Add(new(big.Int).Mul(m2.Num(), big.NewInt(2)), m2.Denom())
	q := new(big.Int).Quo(num, new(big.Int).Mul(m2.Denom(), big.NewInt(2)))
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

// exactQuantity writes a decimal amount in unit as a whole amount of the same
// or a smaller unit (1,5 kg → 1500 g; 0,25 l → 250 ml), as Quantity needs.
// It returns false when even the base unit cannot hold it whole (a
// fraction of a milligram) or when it does not fit.
func exactQuantity(v *big.Rat, unit string) (Quantity, bool) {
	ladders := map[string][]string{"kg": {"kg", "g", "mg"}, "g": {"g", "mg"}, "mg": {"mg"}, "l": {"l", "ml"}, "ml": {"ml"}, "pcs": {"pcs"}}
	ladder, ok := ladders[unit]
	if !ok {
		return Quantity{}, false
	}
	x := new(big.Rat).Set(v)
	for i, u := range ladder {
		if i > 0 {
			x.Mul(x, big.NewRat(1000, 1))
		}
		if x.IsInt() {
			if !x.Num().IsInt64() {
				return Quantity{}, false
			}
			return Quantity{Amount: x.Num().Int64(), Unit: u}, true
		}
	}
	return Quantity{}, false
}

// formatRat writes a decimal for people, with at most 6 decimals.
func formatRat(v *big.Rat) string {
	s := v.FloatString(6)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
