package i18n_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"unicode"

	"github.com/terroir-coop/terroir/web/i18n"
)

// tifinagh reports whether s is written mostly in Tifinagh letters (the
// Unicode Tifinagh block) rather than in Latin ones.
func tifinagh(s string) bool {
	var tfng, latin int
	for _, r := range s {
		switch {
		case r >= 0x2D30 && r <= 0x2D7F:
			tfng++
		case unicode.Is(unicode.Latin, r):
			latin++
		}
	}
	return tfng > latin
}

func TestTheTamazightCatalogueIsPartialAndAwaitsReview(t *testing.T) {
	b := bundle(t)
	zgh := b.Locale("zgh")
	if zgh.Code() != "zgh" || zgh.Name() != "ⵜⴰⵎⴰⵣⵉⵖⵜ" || zgh.Dir() != "ltr" {
		t.Fatalf("zgh is %s %q %s", zgh.Code(), zgh.Name(), zgh.Dir())
	}
	if !zgh.Partial() || !strings.Contains(zgh.Review(), "native speaker") || !tifinagh(zgh.ReviewNote()) {
		t.Fatalf("zgh: partial %v, review %q, note %q", zgh.Partial(), zgh.Review(), zgh.ReviewNote())
	}
	for _, l := range b.Languages() {
		if l.Partial() || l.Review() != "" {
			t.Errorf("%s is among the complete languages but partial or awaiting review", l.Code())
		}
	}
	if len(b.Partial()) != 1 || b.Partial()[0] != zgh {
		t.Errorf("partial catalogues: %v", b.Partial())
	}
	// Before any group is defined, a partial catalogue completes nothing.
	if zgh.Completes("trace") || b.SupportsFor("trace", "zgh") || b.Supports("zgh") {
		t.Error("zgh offered before its groups were checked")
	}
	// Plurals with exact cases (x/text has no plural rules for zgh), and
	// Western digits with the region's separators.
	for n, want := range map[int]string{0: "ⵓⵍⴰ ⵜⴰⵎⵖⴰⵔⵜ", 1: "ⵢⴰⵜ ⵜⵎⵖⴰⵔⵜ", 2: "2 ⵏ ⵜⵎⵖⴰⵔⵉⵏ", 1200: "1\u00a0200 ⵏ ⵜⵎⵖⴰⵔⵉⵏ"} {
		if got := zgh.T("women_count", n); got != want {
			t.Errorf("women_count %d: %q, want %q", n, got, want)
		}
	}
	if got := zgh.T("tr_map_label", 1, "ⵉⴳⵔ", "1 km"); !strings.Contains(got, "1 ⵏ ⵉⴳⵔ,") {
		t.Errorf("tr_map_label 1: %q", got)
	}
}

func TestPartialCatalogueIsOfferedOnlyOnTheGroupsItCompletes(t *testing.T) {
	b := bundle(t)
	missing := b.DefineGroups(map[string][]string{
		"trace":   {"tr_authentic", "tr_origin", "women_count"},
		"harvest": {"harvests", "not a key zgh has"},
		"till":    {"sh_till"},
	})
	if got := missing["zgh"]["harvest"]; len(got) != 1 || got[0] != "not a key zgh has" {
		t.Errorf("missing in harvest: %v", missing)
	}
	if _, ok := missing["zgh"]["trace"]; ok {
		t.Errorf("trace reported incomplete: %v", missing)
	}
	zgh := b.Locale("zgh")
	if !zgh.Completes("trace") || zgh.Completes("harvest") || zgh.Completes("till") || zgh.Completes("") {
		t.Fatalf("completes trace %v harvest %v till %v", zgh.Completes("trace"), zgh.Completes("harvest"), zgh.Completes("till"))
	}
	codes := func(ls []*i18n.Locale) string {
		var s []string
		for _, l := range ls {
			s = append(s, l.Code())
		}
		return strings.Join(s, " ")
	}
	if got := codes(b.LanguagesFor("trace")); got != "fr ar en zgh" {
		t.Errorf("trace offered in %s", got)
	}
	for _, g := range []string{"harvest", "till", "", "no such group"} {
		if got := codes(b.LanguagesFor(g)); got != "fr ar en" {
			t.Errorf("%q offered in %s", g, got)
		}
	}
	tests := []struct{ group, query, cookie, accept, want string }{
		{"trace", "zgh", "", "", "zgh"},
		{"trace", "", "zgh", "fr", "zgh"},
		{"trace", "", "", "zgh", "zgh"},
		{"trace", "", "", "zgh-MA, fr;q=0.5", "zgh"},
		{"trace", "", "", "ar;q=0.4, zgh;q=0.9", "zgh"},
		// Where zgh is not complete, the choice is passed over: the next
		// one decides, and at last French, the region's first language.
		{"till", "", "", "zgh", "fr"},
		{"till", "zgh", "", "", "fr"},
		{"till", "zgh", "", "ar", "ar"},
		{"till", "", "zgh", "en;q=0.5", "en"},
		{"harvest", "", "", "zgh, ar;q=0.8", "ar"},
		{"", "", "", "zgh", "fr"},
	}
	for _, tt := range tests {
		if got := b.NegotiateFor(tt.group, tt.query, tt.cookie, tt.accept).Code(); got != tt.want {
			t.Errorf("NegotiateFor(%q, %q, %q, %q) = %s, want %s", tt.group, tt.query, tt.cookie, tt.accept, got, tt.want)
		}
	}
	// A group a partial catalogue names but nobody defines is reported.
	if got := b.DefineGroups(map[string][]string{"trace": nil})["zgh"]["harvest"]; len(got) != 1 || got[0] != "" {
		t.Errorf("undefined group not reported: %v", got)
	}
}

func TestAPartialCatalogueFallsBackToFrenchNotEnglish(t *testing.T) {
	zgh := bundle(t).Locale("zgh")
	if got := zgh.T("sh_till"); got != "Caisse" {
		t.Errorf("a key zgh lacks reads %q, not the French text", got)
	}
	if zgh.Has("sh_till") {
		t.Error("Has counts the French fallback as the catalogue's own")
	}
	// A French plural entry still selects its forms in a language without
	// plural rules.
	fr := bundle(t).Locale("fr")
	if got, want := zgh.T("cat_count", 1), fr.T("cat_count", 1); got != want {
		t.Errorf("cat_count 1 in zgh: %q, want the French %q", got, want)
	}
	if got, want := zgh.T("cat_count", 3), fr.T("cat_count", 3); got != want {
		t.Errorf("cat_count 3 in zgh: %q, want the French %q", got, want)
	}
}

func TestLoadRefusesWhatAPartialCatalogueCannotSay(t *testing.T) {
	base := fstest.MapFS{
		"l/fr.json": {Data: []byte(`{"tag":"fr","name":"Français","dir":"ltr","messages":{"a":"A fr"}}`)},
		"l/en.json": {Data: []byte(`{"tag":"en","name":"English","dir":"ltr","messages":{"a":"A"}}`)},
	}
	for name, zgh := range map[string]string{
		"a named plural form x/text cannot select": `{"tag":"zgh","name":"ⵜⴰⵎⴰⵣⵉⵖⵜ","dir":"ltr","groups":["trace"],"messages":{"w":{"one":"ⵢⴰⵜ","other":"%d"}}}`,
		"a review note on a complete catalogue":    `{"tag":"zgh","name":"ⵜⴰⵎⴰⵣⵉⵖⵜ","dir":"ltr","review":"draft","messages":{"a":"ⴰ"}}`,
	} {
		fsys := fstest.MapFS{"l/zgh.json": {Data: []byte(zgh)}}
		for k, v := range base {
			fsys[k] = v
		}
		if _, err := i18n.LoadFS(fsys, "l"); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	fsys := fstest.MapFS{"l/zgh.json": {Data: []byte(`{"tag":"zgh","name":"ⵜⴰⵎⴰⵣⵉⵖⵜ","dir":"ltr","groups":["trace"],"messages":{"w":{"=1":"ⵢⴰⵜ","other":"%d"}}}`)}}
	for k, v := range base {
		fsys[k] = v
	}
	if _, err := i18n.LoadFS(fsys, "l"); err != nil {
		t.Errorf("exact cases refused: %v", err)
	}
}
