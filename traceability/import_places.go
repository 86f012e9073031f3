package traceability

import "strings"

// Members reference villages (douars) and communes by name. There is no
// register of places to point at, so a register import knows a place when
// it is either
//
//   - in the gazetteer below: the communes and villages of the
//     Souss-Massa-Drâa named in the network's reports, with the other
//     spellings and the Arabic names people write for them; or
//   - already recorded by the cooperative (its own commune, its members'
//     villages and communes, its parcels' communes).
//
// A known place is stored under its recorded spelling, so "TALIOUINE",
// "taliouine" and "تالوين" become one commune. An unknown place is a row
// problem with the nearest known name suggested — most are typing
// mistakes — unless the import is told that new places are expected
// (AcceptNewPlaces), when the preview lists them as new.

// gazetteerPlace is a place with the spellings that name it.
type gazetteerPlace struct {
	name    string   // the spelling stored
	aliases []string // other spellings, French transliterations and Arabic
}

// gazetteer returns the places of the territory the network serves.
func gazetteer() []gazetteerPlace {
	return []gazetteerPlace{
		{"Taliouine", []string{"Taliwin", "Taliwine", "تالوين", "تاليوين"}},
		{"Taroudannt", []string{"Taroudant", "تارودانت"}},
		{"Agadir", []string{"أكادير", "اكادير"}},
		{"Tiznit", []string{"تيزنيت"}},
		{"Tinghir", []string{"Tinerhir", "Tineghir", "تنغير"}},
		{"Tafraout", []string{"Tafraoute", "تافراوت"}},
		{"Tata", []string{"طاطا"}},
		{"Tissint", []string{"Tissinte", "تيسينت"}},
		{"Ouarzazate", []string{"Warzazat", "ورزازات"}},
		{"Taznakht", []string{"Taznakhte", "تازناخت"}},
		{"Siroua", []string{"Sirwa", "Sirwah", "سيروا", "سيروة"}},
		{"Azaghar N'irs", []string{"Azaghar Nirs", "Azaghar n Irs"}},
		{"Tinzert", nil},
		{"Arbâa Sahel", []string{"Arbaa Sahel", "Arbaâ Sahel", "Arbaa Essahel"}},
		{"Tafingoulte", []string{"Tafingoult"}},
		{"Ammelne", []string{"Amelne", "Ammeln", "Ameln"}},
		{"Oum El Guerdane", []string{"Oulad Berhil Oum El Guerdane", "Oum Elguerdane"}},
		{"Assaki", nil},
		{"Tassousfi", []string{"Tassoussfi"}},
		{"Sidi Hssain", []string{"Sidi Hsain", "Sidi Hssaine"}},
		{"Zagmouzen", []string{"Zagmouzene"}},
		{"Assais", []string{"Assaïs"}},
		{"Tizgzawin", []string{"Tizgzaouine"}},
		{"Tagmoute", []string{"Tagmout"}},
		{"Tasrirte", []string{"Tasrirt"}},
		{"Aït Rkha", []string{"Ait Rkha", "Aït Erkha", "Ait Erkha"}},
		{"Idergane", []string{"Iderguane"}},
		{"Ouzioua", []string{"Ouziwa"}},
		{"Tinfat", nil},
		{"Imgoun", nil},
		{"Taguergoust", nil},
		{"Timlilt", nil},
		{"Tiwizwine", []string{"Tiouziouine", "Tiwiziwine"}},
		{"Taghlale", []string{"Taghlal"}},
		{"Albid", nil},
		{"Taltgmoute", []string{"Taltgmout"}},
	}
}

// placeIndex resolves place names, folded, to the spelling stored.
type placeIndex struct {
	byFold map[string]string
	names  []string // every stored spelling, for suggestions
}

func newPlaceIndex() *placeIndex {
	ix := &placeIndex{byFold: map[string]string{}}
	for _, p := range gazetteer() {
		ix.add(p.name)
		for _, a := range p.aliases {
			ix.alias(a, p.name)
		}
	}
	return ix
}

// add makes a recorded spelling known (a member's village, the cooperative's
// commune). A spelling already known under another form keeps that form.
func (ix *placeIndex) add(name string) {
	name = strings.TrimSpace(name)
	if name == "" {
		return
	}
	ix.alias(name, name)
}

func (ix *placeIndex) alias(spelling, name string) {
	f := placeKey(spelling)
	if f == "" {
		return
	}
	if _, ok := ix.byFold[f]; ok {
		return
	}
	ix.byFold[f] = name
	if placeKey(name) == f {
		ix.names = append(ix.names, name)
	}
}

// placeKey folds a place name: case, accents, apostrophes, dashes and the
// Arabic article do not distinguish two places.
func placeKey(s string) string { return strings.ReplaceAll(foldWords(s), " ", "") }

// resolve returns the stored spelling of a place, or false.
func (ix *placeIndex) resolve(s string) (string, bool) {
	name, ok := ix.byFold[placeKey(s)]
	return name, ok
}

// suggest returns the known place nearest to s, when one is near enough to
// be a typing mistake (at most two edits, or one per four letters), or "".
func (ix *placeIndex) suggest(s string) string {
	key := []rune(placeKey(s))
	best, bestDist := "", -1
	for _, n := range ix.names {
		d := editDistance(key, []rune(placeKey(n)))
		if bestDist < 0 || d < bestDist {
			best, bestDist = n, d
		}
	}
	if bestDist < 0 || bestDist > max(2, len(key)/4) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between two words.
func editDistance(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
