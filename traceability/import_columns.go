package traceability

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// ImportKind names what a register file holds.
type ImportKind string

// The kinds of register file Preview and Apply read.
const (
	ImportKindMembers        ImportKind = "members"
	ImportKindParcels        ImportKind = "parcels"
	ImportKindHarvests       ImportKind = "harvests"
	ImportKindCertifications ImportKind = "certifications"
)

// ImportKinds lists the kinds, in the order forms offer them.
var ImportKinds = []string{string(ImportKindMembers), string(ImportKindParcels), string(ImportKindHarvests), string(ImportKindCertifications)}

// columnSpec is one field a register file may have a column for, with the
// headers that name it in French, English and Arabic as cooperatives write
// them. Synonyms are folded with foldHeader before they are compared, so they
// are listed once, without accents, case or articles.
type columnSpec struct {
	field    string
	synonyms []string
	// unitKind says what a unit in the header means: "area" (m², ha, a),
	// "quantity" (g, kg, l…), or "" when the field takes no unit.
	unitKind string
}

// columnSpecs returns the fields of a kind. It is a function, not a package
// variable, so no package state can be changed.
func columnSpecs(kind ImportKind) []columnSpec {
	code := columnSpec{field: "code", synonyms: []string{"code", "id", "identifiant", "ref", "reference", "n", "no", "num", "numero", "matricule", "رمز", "رقم", "المرجع"}}
	commune := columnSpec{field: "commune", synonyms: []string{"commune", "commune rurale", "commune urbaine", "municipality", "municipalite", "جماعة", "جماعة قروية", "بلدية"}}
	switch kind {
	case ImportKindMembers:
		return []columnSpec{
			{field: "code", synonyms: append(code.synonyms, "code adherent", "numero adherent", "n adherent", "no adherent", "code membre", "member code", "member id", "member number", "membership number", "رقم عضو", "رقم منخرط", "رمز عضو")},
			{field: "name", synonyms: []string{"nom", "nom complet", "nom prenom", "prenom nom", "nom adherent", "nom membre", "adherent", "adherente", "membre", "name", "full name", "member", "member name", "اسم", "اسم كامل", "اسم عضو", "عضو", "منخرط", "اسم منخرط", "اسم نسب"}},
			{field: "first_name", synonyms: []string{"prenom", "first name", "given name", "forename", "اسم شخصي"}},
			{field: "last_name", synonyms: []string{"nom famille", "last name", "surname", "family name", "نسب", "اسم عائلي"}},
			{field: "gender", synonyms: []string{"genre", "sexe", "gender", "sex", "femme homme", "f h", "h f", "جنس", "نوع"}},
			{field: "village", synonyms: []string{"village", "douar", "dowar", "douar village", "village douar", "lieu dit", "localite", "hamlet", "دوار", "قرية", "مدشر"}},
			commune,
		}
	case ImportKindParcels:
		return []columnSpec{
			{field: "code", synonyms: append(code.synonyms, "code parcelle", "numero parcelle", "n parcelle", "no parcelle", "parcel code", "parcel id", "parcel number", "plot code", "plot id", "رقم قطعة", "رمز قطعة")},
			{field: "name", synonyms: []string{"nom", "nom parcelle", "parcelle", "designation", "name", "parcel", "parcel name", "plot", "plot name", "field", "field name", "اسم", "قطعة", "اسم قطعة", "حقل"}},
			{field: "member", synonyms: []string{"adherent", "adherente", "membre", "producteur", "productrice", "proprietaire", "exploitant", "exploitante", "agriculteur", "agricultrice", "code adherent", "nom adherent", "numero adherent", "n adherent", "code membre", "member", "member code", "member name", "farmer", "grower", "owner", "producer", "عضو", "منخرط", "فلاح", "مالك", "منتج", "رقم عضو", "اسم عضو"}},
			commune,
			{field: "area_m2", unitKind: "area", synonyms: []string{"surface", "superficie", "aire", "contenance", "area", "size", "surface area", "area m2", "مساحة"}},
			{field: "crop", synonyms: []string{"culture", "produit", "filiere", "espece", "crop", "product", "محصول", "زراعة", "منتوج", "سلسلة"}},
			{field: "latitude", synonyms: []string{"latitude", "lat", "y", "gps latitude", "خط عرض", "عرض"}},
			{field: "longitude", synonyms: []string{"longitude", "lon", "lng", "long", "x", "gps longitude", "خط طول", "طول"}},
		}
	case ImportKindHarvests:
		return []columnSpec{
			{field: "parcel", synonyms: []string{"parcel", "parcelle", "code parcelle", "nom parcelle", "numero parcelle", "n parcelle", "parcel code", "parcel name", "plot", "field", "قطعة", "رقم قطعة", "اسم قطعة", "حقل"}},
			{field: "member", synonyms: []string{"member", "adherent", "adherente", "membre", "producteur", "productrice", "cueilleur", "cueilleuse", "code adherent", "nom adherent", "member code", "member name", "farmer", "grower", "picker", "عضو", "منخرط", "فلاح", "رقم عضو", "اسم عضو"}},
			{field: "date", synonyms: []string{"date", "jour", "date recolte", "date cueillette", "harvest date", "day", "picking date", "تاريخ", "تاريخ جني", "يوم"}},
			{field: "crop", synonyms: []string{"crop", "culture", "produit", "filiere", "product", "محصول", "منتوج"}},
			{field: "amount", unitKind: "quantity", synonyms: []string{"amount", "quantite", "qte", "qt", "poids", "masse", "volume", "recolte", "quantity", "weight", "mass", "كمية", "وزن"}},
			{field: "unit", synonyms: []string{"unit", "unite", "u", "وحدة"}},
		}
	case ImportKindCertifications:
		return []columnSpec{
			{field: "scheme", synonyms: []string{"scheme", "schema", "referentiel", "certification", "label", "signe qualite", "standard", "type", "type certification", "شهادة", "علامة", "نوع شهادة"}},
			{field: "body", synonyms: []string{"body", "organisme", "organisme certificateur", "organisme controle", "certificateur", "control body", "certifier", "certification body", "هيئة", "هيئة مراقبة", "هيئة تصديق"}},
			{field: "body_code", synonyms: []string{"body code", "code organisme", "code organisme controle", "code organisme certificateur", "control body code", "رمز هيئة"}},
			{field: "number", synonyms: []string{"number", "numero", "n", "no", "num", "numero certificat", "n certificat", "certificat", "certificate", "certificate number", "certificate no", "رقم", "رقم شهادة"}},
			{field: "valid_from", synonyms: []string{"valid from", "from", "start", "start date", "issued", "issue date", "valide du", "valable du", "du", "debut", "date debut", "date emission", "date delivrance", "depuis", "من", "تاريخ بداية", "تاريخ إصدار", "صالحة من"}},
			{field: "valid_to", synonyms: []string{"valid to", "to", "until", "end", "end date", "expiry", "expiry date", "expires", "valid until", "valide jusqu au", "valable jusqu au", "jusqu au", "au", "fin", "date fin", "expiration", "date expiration", "echeance", "إلى", "الى", "تاريخ نهاية", "تاريخ انتهاء", "صالحة إلى"}},
			{field: "product_kinds", synonyms: []string{"product kinds", "products", "product", "scope", "produits", "produit", "portee", "perimetre", "champ", "منتجات", "منتوجات", "نطاق"}},
			{field: "parcels", synonyms: []string{"parcels", "parcelles", "parcel", "parcelle", "plots", "قطع", "قطعة"}},
		}
	}
	return nil
}

// headerStopword reports the articles and prepositions that do not change what a
// header names ("Nom de l'adhérent" is "nom adherent").
func headerStopword(w string) bool {
	switch w {
	case "de", "du", "des", "d", "la", "le", "les", "l", "et", "the", "of", "a", "en", "in", "par", "per", "و", "في":
		return true
	}
	return false
}

// foldText folds a text for comparison: NFD, combining marks removed (é → e,
// and the Arabic short vowels and hamza seats: أ → ا), lower case, Arabic
// tatweel dropped, ة → ه and ى → ي, every run of punctuation or spaces made
// one space. "Aït-Rkha" and "ait rkha" fold alike.
func foldText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r), r == 'ـ': // marks, tatweel
			continue
		case r == 'ة':
			r = 'ه'
		case r == 'ى':
			r = 'ي'
		case r == 'œ':
			b.WriteString("oe")
			space = false
			continue
		case r == 'æ':
			b.WriteString("ae")
			space = false
			continue
		case r == 'ß':
			b.WriteString("ss")
			space = false
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		space = true
	}
	return b.String()
}

// headerTokens folds a header into its words, without stopwords, and with
// the Arabic article "ال" taken off words longer than three letters, so that
// "الاسم" and "اسم" match.
func headerTokens(s string) []string {
	all := strings.Fields(foldText(s))
	var out []string
	for _, w := range all {
		if headerStopword(w) {
			continue
		}
		if strings.HasPrefix(w, "ال") && len([]rune(w)) > 3 {
			w = strings.TrimPrefix(w, "ال")
		}
		out = append(out, w)
	}
	if len(out) == 0 {
		return all // a header that is only a preposition: "Du", "Au"
	}
	return out
}

// headerUnit finds a unit written in a header — "Superficie (ha)",
// "surface_m2", "Poids en kg", "الكمية (كلغ)" — and returns the header
// without it and the unit's canonical name ("" when there is none).
func headerUnit(h, unitKind string) (string, string) {
	if unitKind == "" {
		return h, ""
	}
	// A unit in brackets: "(ha)", "[m²]".
	for _, pair := range [][2]string{{"(", ")"}, {"[", "]"}} {
		if i := strings.LastIndex(h, pair[0]); i >= 0 {
			if j := strings.Index(h[i:], pair[1]); j > 0 {
				if u := canonicalUnit(h[i+1:i+j], unitKind); u != "" {
					return strings.TrimSpace(h[:i] + h[i+j+1:]), u
				}
			}
		}
	}
	// A trailing word: "surface m2", "area_ha", "poids en kg".
	words := strings.FieldsFunc(h, func(r rune) bool { return r == ' ' || r == '_' || r == '-' || r == '/' })
	if len(words) >= 2 {
		if u := canonicalUnit(words[len(words)-1], unitKind); u != "" {
			rest := words[:len(words)-1]
			if last := foldText(rest[len(rest)-1]); (last == "en" || last == "in" || last == "par") && len(rest) > 1 {
				rest = rest[:len(rest)-1]
			}
			return strings.Join(rest, " "), u
		}
	}
	return h, ""
}

// canonicalUnit names a unit as written by people: area units as m2, ha, a;
// quantity units as Quantity accepts them (mg, g, kg, ml, l, pcs).
func canonicalUnit(s, unitKind string) string {
	f := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "²", "2")
	f = strings.ReplaceAll(f, "^2", "2")
	switch unitKind {
	case "area":
		switch foldText(f) {
		case "m2", "m 2", "m", "metre carre", "metres carres", "metre 2", "metres 2", "square metre", "square metres", "square meter", "square meters", "sqm", "sq m", "م2", "م 2", "متر مربع", "مترمربع":
			return "m2"
		case "ha", "hectare", "hectares", "هكتار", "هك":
			return "ha"
		case "a", "are", "ares", "ar", "آر", "ار":
			return "a"
		}
	case "quantity":
		switch foldText(f) {
		case "mg", "milligramme", "milligrammes", "milligram", "milligrams", "ملغ", "مغ":
			return "mg"
		case "g", "gr", "gramme", "grammes", "gram", "grams", "غ", "غرام":
			return "g"
		case "kg", "kilo", "kilos", "kilogramme", "kilogrammes", "kilogram", "kilograms", "كلغ", "كغ", "كيلو", "كيلوغرام":
			return "kg"
		case "ml", "millilitre", "millilitres", "milliliter", "milliliters", "مل":
			return "ml"
		case "l", "litre", "litres", "liter", "liters", "لتر":
			return "l"
		case "pcs", "pc", "piece", "pieces", "unite", "unites", "قطعة", "وحدة":
			return "pcs"
		}
	}
	return ""
}

// ImportColumn says how one column of the file was understood.
type ImportColumn struct {
	Index  int    `json:"index"`          // 0-based position in the file
	Letter string `json:"letter"`         // the spreadsheet's column name: A, B, … AA
	Header string `json:"header"`         // the header as written
	Field  string `json:"field"`          // the field it fills, "" when ignored
	Unit   string `json:"unit,omitempty"` // a unit read from the header (m2, ha, a, g, kg…)
	// Note explains an ignored column: "unknown" (no field has this
	// name), "duplicate" (another column already fills Field, see
	// DuplicateOf), or "empty" (no header).
	Note        string `json:"note,omitempty"`
	DuplicateOf string `json:"duplicate_of,omitempty"` // the letter of the column kept
}

// columnLetter names a 0-based column as a spreadsheet does (A … Z, AA …).
func columnLetter(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// matchScore says how well a header's words name a synonym: 0 when they do
// not, more for an exact match than for a header that only contains the
// synonym, and more for longer synonyms, so "code parcelle" beats "code".
func matchScore(words, synonym []string) int {
	if len(synonym) == 0 || len(words) == 0 {
		return 0
	}
	if strings.Join(words, " ") == strings.Join(synonym, " ") {
		return 1000 + 10*len(synonym)
	}
	for i := 0; i+len(synonym) <= len(words); i++ {
		if strings.Join(words[i:i+len(synonym)], " ") == strings.Join(synonym, " ") {
			return 100 + 10*len(synonym) - i // earlier words say more of what the column is
		}
	}
	return 0
}

// MatchColumns says which field of kind each header fills. Headers are
// matched by name in French, English or Arabic, ignoring case, accents,
// articles and punctuation, with a unit in the header understood
// ("Superficie (ha)"). Each field is filled by at most one column: the one
// whose header names it best, then the leftmost; the others are ignored
// and say so.
func MatchColumns(kind ImportKind, header []string) []ImportColumn {
	specs := columnSpecs(kind)
	cols := make([]ImportColumn, len(header))
	scores := make([]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		cols[i] = ImportColumn{Index: i, Letter: columnLetter(i), Header: h}
		if foldText(h) == "" {
			cols[i].Note = "empty"
			continue
		}
		best, bestScore, bestUnit := "", 0, ""
		for _, sp := range specs {
			label, unit := headerUnit(h, sp.unitKind)
			words := headerTokens(label)
			score := 0
			if strings.Join(words, "_") == sp.field || foldText(label) == strings.ReplaceAll(sp.field, "_", " ") {
				score = 2000 // the API's own field name
			}
			for _, syn := range sp.synonyms {
				score = max(score, matchScore(words, headerTokens(syn)))
			}
			if score > bestScore {
				best, bestScore, bestUnit = sp.field, score, unit
			}
		}
		if best == "" {
			cols[i].Note = "unknown"
			continue
		}
		cols[i].Field, cols[i].Unit, scores[i] = best, bestUnit, bestScore
	}
	// One column per field: keep the best-named, then the leftmost.
	kept := map[string]int{}
	for i := range cols {
		f := cols[i].Field
		if f == "" {
			continue
		}
		if k, ok := kept[f]; !ok || scores[i] > scores[k] {
			kept[f] = i
		}
	}
	for i := range cols {
		f := cols[i].Field
		if f == "" {
			continue
		}
		if k := kept[f]; k != i {
			cols[i].Field, cols[i].Unit, cols[i].Note, cols[i].DuplicateOf = "", "", "duplicate", cols[k].Letter
		}
	}
	return cols
}

// matchedFields counts the columns that fill a field.
func matchedFields(cols []ImportColumn) int {
	n := 0
	for _, c := range cols {
		if c.Field != "" {
			n++
		}
	}
	return n
}
