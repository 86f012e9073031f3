package i18n

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/message"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// Locale is one language: its catalogue and its number formats.
type Locale struct {
	code, name, dir string
	p               *message.Printer
	decimal         string
	keys            map[string]bool
	bundle          *Bundle
	// A partial catalogue: the page groups its file names, those it
	// completes (Bundle.DefineGroups), and its review status.
	groups             []string
	complete           map[string]bool
	review, reviewNote string
}

// Code is the language's tag: "fr", "en", "ar".
func (l *Locale) Code() string { return l.code }

// Name is the language's name in itself: "Français", "العربية".
func (l *Locale) Name() string { return l.name }

// Dir is the writing direction, "ltr" or "rtl".
func (l *Locale) Dir() string { return l.dir }

// Partial reports whether the catalogue covers some page groups only
// (its file names them): it is offered only on the pages of those it
// completes.
func (l *Locale) Partial() bool { return len(l.groups) > 0 }

// Groups are the page groups a partial catalogue's file names (nil for a
// complete one).
func (l *Locale) Groups() []string { return slices.Clone(l.groups) }

// Completes reports whether a page of group can be shown in the language
// with no key missing: always for a complete catalogue, for a partial one
// when Bundle.DefineGroups found every key of the group in it.
func (l *Locale) Completes(group string) bool { return !l.Partial() || l.complete[group] }

// Review is who still has to read the catalogue ("awaiting review by a
// native speaker (machine-drafted 2026-12)"); empty for a reviewed one.
func (l *Locale) Review() string { return l.review }

// ReviewNote says Review to the reader, in the language; empty for a
// reviewed catalogue.
func (l *Locale) ReviewNote() string { return l.reviewNote }

// Has reports whether the language's file has the key.
func (l *Locale) Has(key string) bool { return l.keys[key] }

// T is the message of key in the language, formatted with args (numbers in
// the language's digits and separators). Terms among args are named in the
// language. A key the catalogue lacks is printed as the English format.
func (l *Locale) T(key string, args ...any) string {
	named := args
	for i, a := range args {
		switch t := a.(type) {
		case problem.Term:
			if &named[0] == &args[0] {
				named = append([]any(nil), args...) // the caller's slice may be an error's Args
			}
			named[i] = l.Term(t.Vocabulary, t.Code)
		case problem.Terms:
			if &named[0] == &args[0] {
				named = append([]any(nil), args...)
			}
			names := make([]string, len(t.Codes))
			for k, code := range t.Codes {
				names[k] = l.Term(t.Vocabulary, code)
			}
			named[i] = strings.Join(names, l.p.Sprintf("list_separator"))
		case traceability.Amount:
			if &named[0] == &args[0] {
				named = append([]any(nil), args...)
			}
			named[i] = l.Quantity(t.Amount, t.Unit)
		}
	}
	return l.p.Sprintf(key, named...)
}

// Term is a vocabulary's name for code ("kind", "saffron_dried" → "Safran
// séché"); the code itself when the vocabulary has no name for it.
func (l *Locale) Term(vocabulary, code string) string {
	key := vocabulary + "." + code
	if l.keys[key] || l.bundle.Locale(Source).keys[key] {
		return l.p.Sprintf(key)
	}
	return code
}

// Kind names a product kind: the one name of the kind on every page, label
// and list.
func (l *Locale) Kind(code string) string { return l.Term("kind", code) }

// Number writes an integer in the language's digits and grouping.
func (l *Locale) Number(n int64) string { return l.p.Sprintf("%d", n) }

// Separators are the language's decimal and grouping separators (for
// scripts that write numbers as the server does).
func (l *Locale) Separators() (decimal, group string) {
	n := l.p.Sprintf("%d", 1234)
	return l.decimal, strings.TrimSuffix(strings.TrimPrefix(n, l.p.Sprintf("%d", 1)), l.p.Sprintf("%d", 234))
}

// MoneyPattern is how the language places an amount of currency: a format
// with one %s for the number.
func (l *Locale) MoneyPattern(currency string) string {
	if key := "money." + currency; l.keys[key] {
		return l.p.Sprintf(key, "%s")
	}
	return "%s\u00a0" + currency
}

// Quantity writes a base amount as the language does, in the display unit
// traceability.FormatQuantity picks (so nothing is rounded away): the
// number with the language's separators, the unit's symbol or word from
// the catalogue ("unit.kg", "unit.pcs" — pieces with the language's
// plurals: "1 pièce", "250 pièces", "قطعتان", "11 قطعة"). A unit the
// catalogue does not name is written as FormatQuantity does.
func (l *Locale) Quantity(amount int64, unit traceability.Unit) string {
	s := traceability.ShowQuantity(amount, unit)
	key := "unit." + s.Unit
	if !l.keys[key] && !l.bundle.Locale(Source).keys[key] {
		return s.String()
	}
	if s.Fraction == "" && s.Whole <= math.MaxInt64 {
		n := int64(s.Whole)
		if s.Negative {
			n = -n
		}
		if unit == traceability.Piece {
			return l.p.Sprintf(key, n) // a plural entry: its forms write the number
		}
		return l.p.Sprintf(key, l.p.Sprintf("%d", n))
	}
	num := l.p.Sprintf("%d", s.Whole) + l.decimal
	for _, d := range s.Fraction {
		num += l.p.Sprintf("%d", d-'0') // the language's digits, leading zeros kept
	}
	if s.Negative {
		num = "-" + num
	}
	return l.p.Sprintf(key, num)
}

// Money writes an amount of minor units of a currency as the language
// does: the number with two decimals, placed in the currency's pattern.
// Exact: the integer and the cents are written separately, never through a
// float.
func (l *Locale) Money(amount int64, currency string) string {
	sign := ""
	u := uint64(amount)
	if amount < 0 {
		sign, u = "-", uint64(-(amount+1))+1
	}
	n := sign + l.p.Sprintf("%d", u/100) + l.decimal + fmt.Sprintf("%02d", u%100)
	return strings.Replace(l.MoneyPattern(currency), "%s", n, 1)
}

// Message is err as a person reads it in the language: a *problem.Error's
// message from its key and arguments, prefixed with the name of the field
// at fault when the catalogue names it ("Quantité : …"). Anything else is
// an internal error, said without its text.
func (l *Locale) Message(err error) string {
	pe, ok := problem.As(err)
	if !ok {
		return l.T("err_internal")
	}
	msg := l.T(pe.MessageKey(), pe.Args...)
	if label := l.FieldLabel(pe.Field); label != "" {
		return l.T("field_error", label, msg)
	}
	return sentence(msg)
}

// sentence starts a message that stands alone with a capital letter
// (messages are written to follow a field's label: "Date : est dans le
// futur").
func sentence(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

var fieldIndex = regexp.MustCompile(`\[(\d+)\]`)

// FieldLabel names a request field for people: "date" → "Date",
// "lines[1].units" → "Unités (ligne 2)". It is empty for a field the
// catalogue does not name.
func (l *Locale) FieldLabel(field string) string {
	if field == "" {
		return ""
	}
	// The whole dotted name first ("advance.method", the way an advance
	// is paid), then its last segment ("method", an analysis method).
	key := "field." + fieldIndex.ReplaceAllString(field, "")
	if !l.keys[key] {
		key = "field." + FieldName(field)
	}
	if !l.keys[key] {
		return ""
	}
	label := l.p.Sprintf(key)
	if m := fieldIndex.FindAllStringSubmatch(field, -1); len(m) > 0 {
		row, _ := strconv.Atoi(m[len(m)-1][1])
		return l.T("field_row", label, row+1)
	}
	return label
}

// FieldName is the catalogue name of a request field: its last segment
// without indexes ("inputs[2].quantity" → "quantity",
// "customer.address.city" → "city").
func FieldName(field string) string {
	field = fieldIndex.ReplaceAllString(field, "")
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	return field
}
