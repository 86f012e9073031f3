package trace

import (
	"testing"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
)

func TestWhoMadeItCountsWomenAndMenWithPlurals(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	coop := traceability.Cooperative{Name: "Coopérative Safran Siroua", Commune: "Taliouine", Province: "Taroudannt"}
	origin := []traceability.TraceOrigin{{Village: "Siroua"}, {Village: "Tinzert"}, {Village: "Siroua"}}
	tests := []struct {
		lang          string
		members, wmen int
		want          string
	}{
		{"fr", 3, 2, "3 : 2 femmes et 1 homme"},
		{"fr", 2, 0, "2 : 2 hommes"},
		{"fr", 1, 1, "1 : 1 femme"},
		{"en", 3, 1, "3: 1 woman and 2 men"},
		{"ar", 3, 2, "3: امرأتان ورجل واحد"},
		{"ar", 5, 5, "5: 5 نساء"},
	}
	for _, tt := range tests {
		got := whoMadeIt(b.Locale(tt.lang), traceability.TraceRecord{Cooperative: coop, Origin: origin, Producers: tt.members, Women: tt.wmen})
		if got.Producers != tt.want {
			t.Errorf("%s %d/%d: %q, want %q", tt.lang, tt.members, tt.wmen, got.Producers, tt.want)
		}
		if got.Place != "Taliouine, Taroudannt" {
			t.Errorf("place %q", got.Place)
		}
	}
	if got := whoMadeIt(b.Locale("fr"), traceability.TraceRecord{Cooperative: coop, Origin: origin}); got.Villages != "Siroua, Tinzert" || got.Producers != "" {
		t.Errorf("villages %q, producers %q", got.Villages, got.Producers)
	}
}
