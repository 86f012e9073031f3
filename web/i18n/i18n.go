package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

//go:embed locales/*.json
var locales embed.FS

// Default is the language of a visitor whose browser asks for none we have.
const Default = "fr"

// Source is the language the keys of domain errors are written in.
const Source = "en"

// Bundle is the set of languages and their catalogues.
type Bundle struct {
	locales []*Locale // Default first, then by tag
	byTag   map[string]*Locale
	matcher language.Matcher
}

// localeFile is one locales/*.json file.
type localeFile struct {
	Tag      string                     `json:"tag"`
	Name     string                     `json:"name"`
	Dir      string                     `json:"dir"`
	Numbers  string                     `json:"numbers"`
	Messages map[string]json.RawMessage `json:"messages"`
}

// pluralForms are the case names a plural entry may use, in the order they
// are tried (exact "=N" cases first).
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// Load reads the embedded catalogues.
func Load() (*Bundle, error) { return LoadFS(locales, "locales") }

// LoadFS reads every *.json file of dir in fsys as a language.
func LoadFS(fsys fs.FS, dir string) (*Bundle, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("i18n: no catalogue in %s", dir)
	}
	cat := catalog.NewBuilder(catalog.Fallback(language.MustParse(Source)))
	b := &Bundle{byTag: map[string]*Locale{}}
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		var lf localeFile
		if err := json.Unmarshal(raw, &lf); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
		if lf.Tag+".json" != path.Base(f) {
			return nil, fmt.Errorf("i18n: %s declares tag %q", f, lf.Tag)
		}
		tag, err := language.Parse(lf.Tag)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
		numbers := tag
		if lf.Numbers != "" {
			if numbers, err = language.Parse(lf.Numbers); err != nil {
				return nil, fmt.Errorf("i18n: %s: numbers: %w", f, err)
			}
		}
		if lf.Dir != "ltr" && lf.Dir != "rtl" {
			return nil, fmt.Errorf("i18n: %s: dir must be ltr or rtl", f)
		}
		l := &Locale{code: lf.Tag, name: lf.Name, dir: lf.Dir, keys: make(map[string]bool, len(lf.Messages))}
		for key, v := range lf.Messages {
			if err := setMessage(cat, tag, key, v); err != nil {
				return nil, fmt.Errorf("i18n: %s: %q: %w", f, key, err)
			}
			l.keys[key] = true
		}
		// Numbers follow the "numbers" locale; messages are found through
		// its parents (ar-MA → ar), so one printer does both.
		l.p = message.NewPrinter(numbers, message.Catalog(cat))
		l.decimal = decimalSeparator(l.p)
		b.byTag[lf.Tag] = l
		b.locales = append(b.locales, l)
	}
	if b.byTag[Default] == nil || b.byTag[Source] == nil {
		return nil, fmt.Errorf("i18n: the catalogues of %s and %s are required", Default, Source)
	}
	slices.SortFunc(b.locales, func(x, y *Locale) int {
		switch {
		case x.code == Default:
			return -1
		case y.code == Default:
			return 1
		}
		return strings.Compare(x.code, y.code)
	})
	tags := make([]language.Tag, len(b.locales))
	for i, l := range b.locales {
		tags[i] = language.MustParse(l.code)
		l.bundle = b
	}
	b.matcher = language.NewMatcher(tags)
	return b, nil
}

// setMessage adds one entry: a format string, or an object of plural forms.
func setMessage(cat *catalog.Builder, tag language.Tag, key string, raw json.RawMessage) error {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return cat.SetString(tag, key, s)
	}
	var forms map[string]json.RawMessage
	if err := json.Unmarshal(raw, &forms); err != nil {
		return fmt.Errorf("an entry is a string or an object of plural forms")
	}
	arg := 1
	var cases []any
	var exact []string
	for k := range forms {
		if strings.HasPrefix(k, "=") {
			exact = append(exact, k)
		}
	}
	slices.Sort(exact)
	for k, v := range forms {
		if k == "arg" {
			if err := json.Unmarshal(v, &arg); err != nil || arg < 1 {
				return fmt.Errorf("arg must be a positive argument number")
			}
			continue
		}
		if !strings.HasPrefix(k, "=") && !slices.Contains(pluralForms, k) {
			return fmt.Errorf("%q is not a CLDR plural form", k)
		}
	}
	if _, ok := forms["other"]; !ok {
		return fmt.Errorf("a plural entry needs the form \"other\"")
	}
	for _, k := range append(exact, pluralForms...) {
		v, ok := forms[k]
		if !ok {
			continue
		}
		var text string
		if err := json.Unmarshal(v, &text); err != nil {
			return fmt.Errorf("form %q must be a string", k)
		}
		cases = append(cases, k, text)
	}
	return cat.Set(tag, key, plural.Selectf(arg, "%d", cases...))
}

// Languages lists the languages, the default first.
func (b *Bundle) Languages() []*Locale { return slices.Clone(b.locales) }

// Locale returns the language of tag, or the default one.
func (b *Bundle) Locale(tag string) *Locale {
	if l := b.byTag[tag]; l != nil {
		return l
	}
	return b.byTag[Default]
}

// Supports reports whether tag is one of the languages.
func (b *Bundle) Supports(tag string) bool { return b.byTag[tag] != nil }

// Match picks the language for an Accept-Language header, honouring its
// quality values ("en;q=0.3, ar-MA;q=0.8" is Arabic); the default when the
// header names none of ours.
func (b *Bundle) Match(acceptLanguage string) *Locale {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return b.byTag[Default]
	}
	_, i, conf := b.matcher.Match(tags...)
	if conf == language.No {
		return b.byTag[Default]
	}
	return b.locales[i]
}

// Negotiate is the page language: an explicit choice (?lang=), then the
// remembered one (the cookie), then the browser's Accept-Language.
func (b *Bundle) Negotiate(query, cookie, acceptLanguage string) *Locale {
	for _, t := range []string{query, cookie} {
		if b.Supports(t) {
			return b.byTag[t]
		}
	}
	return b.Match(acceptLanguage)
}

// decimalSeparator is how the locale writes the fraction of 1.5.
func decimalSeparator(p *message.Printer) string {
	s := p.Sprintf("%.1f", 1.5)
	return strings.TrimSuffix(strings.TrimPrefix(s, p.Sprintf("%d", 1)), p.Sprintf("%d", 5))
}
