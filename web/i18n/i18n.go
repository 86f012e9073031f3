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
	locales []*Locale // the complete languages: Default first, then by tag
	partial []*Locale // the partial catalogues, by tag
	byTag   map[string]*Locale
	matcher language.Matcher
	// groups are the page groups DefineGroups declared: for each, the
	// languages its pages are offered in and their matcher.
	groups map[string]*offer
}

// offer is a set of languages and the matcher that picks among them.
type offer struct {
	locales []*Locale
	matcher language.Matcher
}

func newOffer(locales []*Locale) *offer {
	tags := make([]language.Tag, len(locales))
	for i, l := range locales {
		tags[i] = language.MustParse(l.code)
	}
	return &offer{locales: locales, matcher: language.NewMatcher(tags)}
}

// localeFile is one locales/*.json file.
type localeFile struct {
	Tag      string                     `json:"tag"`
	Name     string                     `json:"name"`
	Dir      string                     `json:"dir"`
	Numbers  string                     `json:"numbers"`
	Messages map[string]json.RawMessage `json:"messages"`
	// A partial catalogue names the page groups it is written for; it
	// is offered only on the pages of those it completes (DefineGroups).
	Groups []string `json:"groups"`
	// Review says who still has to read a catalogue ("awaiting review by
	// a native speaker"), for maintainers; ReviewNote says it to readers,
	// in the language, under the language switch.
	Review     string `json:"review"`
	ReviewNote string `json:"review_note"`
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
	type parsed struct {
		lf           localeFile
		tag, numbers language.Tag
	}
	var all []parsed
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
		if (lf.Review != "" || lf.ReviewNote != "") && len(lf.Groups) == 0 {
			return nil, fmt.Errorf("i18n: %s: only a partial catalogue (with groups) awaits review", f)
		}
		all = append(all, parsed{lf, tag, numbers})
	}
	var fallback map[string]json.RawMessage // the default language's entries
	for _, p := range all {
		if p.lf.Tag == Default {
			fallback = p.lf.Messages
		}
	}
	for _, p := range all {
		lf, tag := p.lf, p.tag
		l := &Locale{code: lf.Tag, name: lf.Name, dir: lf.Dir, keys: make(map[string]bool, len(lf.Messages)),
			groups: slices.Clone(lf.Groups), review: lf.Review, reviewNote: lf.ReviewNote}
		namedForms := hasPluralRules(tag)
		for key, v := range lf.Messages {
			if err := setMessage(cat, tag, key, v, namedForms); err != nil {
				return nil, fmt.Errorf("i18n: %s.json: %q: %w", lf.Tag, key, err)
			}
			l.keys[key] = true
		}
		if l.Partial() {
			// What a partial catalogue lacks is said in the default
			// language (the region's first), not in English: on a page of
			// a group it completes nothing falls back, and a key a
			// handler prints that no group lists reads as French does.
			for key, v := range fallback {
				if !l.keys[key] {
					if !namedForms {
						v = exactForms(v)
					}
					if err := setMessage(cat, tag, key, v, namedForms); err != nil {
						return nil, fmt.Errorf("i18n: %s.json: %q from %s: %w", lf.Tag, key, Default, err)
					}
				}
			}
		}
		// Numbers follow the "numbers" locale; messages are found through
		// its parents (ar-MA → ar), so one printer does both.
		l.p = message.NewPrinter(p.numbers, message.Catalog(cat))
		l.decimal = decimalSeparator(l.p)
		b.byTag[lf.Tag] = l
		if l.Partial() {
			b.partial = append(b.partial, l)
		} else {
			b.locales = append(b.locales, l)
		}
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
	if b.byTag[Default].Partial() || b.byTag[Source].Partial() {
		return nil, fmt.Errorf("i18n: the catalogues of %s and %s must be complete", Default, Source)
	}
	slices.SortFunc(b.partial, func(x, y *Locale) int { return strings.Compare(x.code, y.code) })
	for _, l := range b.byTag {
		l.bundle = b
	}
	b.matcher = newOffer(b.locales).matcher
	return b, nil
}

// exactForms rewrites a plural entry of the default language for a
// language without plural rules: its "zero", "one" and "two" forms become
// the exact cases 0, 1 (and 0, as French counts it) and 2, "other" stays,
// and the rest are dropped. Any other entry is returned as it is.
func exactForms(raw json.RawMessage) json.RawMessage {
	var forms map[string]json.RawMessage
	if json.Unmarshal(raw, &forms) != nil {
		return raw
	}
	out := map[string]json.RawMessage{}
	for k, v := range forms {
		switch k {
		case "zero":
			out["=0"] = v
		case "one":
			if _, ok := forms["=1"]; !ok {
				out["=1"] = v
			}
			_, zero := forms["zero"]
			if _, exact := forms["=0"]; !zero && !exact {
				out["=0"] = v
			}
		case "two":
			out["=2"] = v
		case "few", "many":
		default:
			out[k] = v
		}
	}
	b, _ := json.Marshal(out)
	return b
}

// hasPluralRules reports whether x/text knows the CLDR plural rules of tag:
// without them it selects no named form ("one", "few"…), and a plural
// entry must be written with exact cases ("=1") and "other".
func hasPluralRules(tag language.Tag) bool {
	cat := catalog.NewBuilder()
	if err := cat.Set(tag, "p", plural.Selectf(1, "%d", "one", "one", "other", "other")); err != nil {
		return false
	}
	return message.NewPrinter(tag, message.Catalog(cat)).Sprintf("p", 2) != ""
}

// setMessage adds one entry: a format string, or an object of plural forms.
// namedForms is false for a language whose plural rules x/text lacks.
func setMessage(cat *catalog.Builder, tag language.Tag, key string, raw json.RawMessage, namedForms bool) error {
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
		if !namedForms && !strings.HasPrefix(k, "=") && k != "other" {
			return fmt.Errorf("the language has no plural rules here: write %q as exact cases (\"=1\") and \"other\"", k)
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

// Languages lists the complete languages, the default first: those every
// page is offered in. A partial catalogue is not among them (LanguagesFor).
func (b *Bundle) Languages() []*Locale { return slices.Clone(b.locales) }

// Partial lists the partial catalogues, by tag.
func (b *Bundle) Partial() []*Locale { return slices.Clone(b.partial) }

// LanguagesFor lists the languages a page of group is offered in: the
// complete ones, then the partial catalogues that complete the group (as
// DefineGroups found). An unknown group, or "", is offered in the complete
// languages only.
func (b *Bundle) LanguagesFor(group string) []*Locale { return slices.Clone(b.offerFor(group).locales) }

func (b *Bundle) offerFor(group string) *offer {
	if o := b.groups[group]; o != nil {
		return o
	}
	return &offer{locales: b.locales, matcher: b.matcher}
}

// DefineGroups declares the page groups a partial catalogue may be written
// for, each with every key its pages use, and decides which groups each
// partial catalogue completes: a group whose keys it all has, among those
// its file names. It answers what each partial catalogue lacks, by tag and
// group (nothing when every named group is complete); a group not defined
// at all is reported with the key "" missing. The server calls it once, at
// start, before the bundle is shared; it is not safe to call concurrently
// with anything else.
func (b *Bundle) DefineGroups(groups map[string][]string) map[string]map[string][]string {
	missing := map[string]map[string][]string{}
	b.groups = map[string]*offer{}
	for _, l := range b.partial {
		l.complete = map[string]bool{}
	}
	for name, keys := range groups {
		offered := slices.Clone(b.locales)
		for _, l := range b.partial {
			if !slices.Contains(l.groups, name) {
				continue
			}
			var lacks []string
			for _, k := range keys {
				if !l.keys[k] {
					lacks = append(lacks, k)
				}
			}
			if len(lacks) > 0 {
				slices.Sort(lacks)
				if missing[l.code] == nil {
					missing[l.code] = map[string][]string{}
				}
				missing[l.code][name] = slices.Compact(lacks)
				continue
			}
			l.complete[name] = true
			offered = append(offered, l)
		}
		b.groups[name] = newOffer(offered)
	}
	for _, l := range b.partial {
		for _, g := range l.groups {
			if _, ok := groups[g]; !ok {
				if missing[l.code] == nil {
					missing[l.code] = map[string][]string{}
				}
				missing[l.code][g] = []string{""}
			}
		}
	}
	return missing
}

// Locale returns the language of tag (a partial catalogue too), or the
// default one.
func (b *Bundle) Locale(tag string) *Locale {
	if l := b.byTag[tag]; l != nil {
		return l
	}
	return b.byTag[Default]
}

// Supports reports whether tag is one of the complete languages.
func (b *Bundle) Supports(tag string) bool { return b.SupportsFor("", tag) }

// SupportsFor reports whether a page of group is offered in tag.
func (b *Bundle) SupportsFor(group, tag string) bool {
	l := b.byTag[tag]
	return l != nil && (!l.Partial() || l.Completes(group))
}

// Match picks the language for an Accept-Language header, honouring its
// quality values ("en;q=0.3, ar-MA;q=0.8" is Arabic); the default when the
// header names none of ours.
func (b *Bundle) Match(acceptLanguage string) *Locale { return b.MatchFor("", acceptLanguage) }

// MatchFor is Match among the languages a page of group is offered in.
func (b *Bundle) MatchFor(group, acceptLanguage string) *Locale {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return b.byTag[Default]
	}
	o := b.offerFor(group)
	_, i, conf := o.matcher.Match(tags...)
	if conf == language.No {
		return b.byTag[Default]
	}
	return o.locales[i]
}

// Negotiate is the page language: an explicit choice (?lang=), then the
// remembered one (the cookie), then the browser's Accept-Language.
func (b *Bundle) Negotiate(query, cookie, acceptLanguage string) *Locale {
	return b.NegotiateFor("", query, cookie, acceptLanguage)
}

// NegotiateFor is Negotiate for a page of group: a choice of a partial
// catalogue that does not complete the group is passed over, as if it
// had not been made (the next choice, and at last French, decides).
func (b *Bundle) NegotiateFor(group, query, cookie, acceptLanguage string) *Locale {
	for _, t := range []string{query, cookie} {
		if b.SupportsFor(group, t) {
			return b.byTag[t]
		}
	}
	return b.MatchFor(group, acceptLanguage)
}

// decimalSeparator is how the locale writes the fraction of 1.5.
func decimalSeparator(p *message.Printer) string {
	s := p.Sprintf("%.1f", 1.5)
	return strings.TrimSuffix(strings.TrimPrefix(s, p.Sprintf("%d", 1)), p.Sprintf("%d", 5))
}
