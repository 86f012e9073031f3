package traceability

import (
	"strings"
	"testing"
)

func TestPlausibilityTableIsSound(t *testing.T) {
	table := PlausibilityTable()
	seen := map[string]bool{}
	for _, r := range table {
		key := r.Check + "|" + r.Crop + "|" + r.Process + "|" + r.InputKind + "|" + r.OutputKind
		if seen[key] {
			t.Errorf("duplicate row %s", key)
		}
		seen[key] = true
		if !(r.Min > 0 && r.Min < r.Max) || r.Typical == "" || r.Source == "" {
			t.Errorf("row %s: want 0 < Min < Max, a Typical text and a Source; got %+v", key, r)
		}
	}
	for _, crop := range []string{"saffron", "argan", "olive", "pamm", "honey", "almond"} {
		if !seen[CheckKindHarvest+"|"+crop+"|||"] {
			t.Errorf("no harvest range for %s", crop)
		}
	}
	table[0].Max = 0
	if PlausibilityTable()[0].Max == 0 {
		t.Error("changing a returned table changed the next one")
	}
}

func TestCheckHarvest(t *testing.T) {
	tests := []struct {
		name       string
		crop       string
		quantityMg int64
		areaM2     int64
		ok         bool
		flag       string // substring
	}{
		{"saffron typical", "saffron", 1_000_000, 500, true, ""},        // 20 kg/ha fresh
		{"saffron at the maximum", "saffron", 3_000_000, 500, true, ""}, // 60 kg/ha
		{"saffron too much", "saffron", 4_000_000, 500, false, "harvest of 4 kg saffron on 500 m² is above the typical maximum of 3 kg for that area (typical: 2–60 kg/ha of fresh stigmas per season)"},
		{"saffron too little", "saffron", 50_000, 500, false, "harvest of 50 g saffron on 500 m² is below the typical minimum of 100 g"},
		{"olive kg typed as g", "olive", 3_000, 10_000, false, "below the typical minimum of 200 kg"},
		{"olive intensive orchard", "olive", 12_000_000_000, 10_000, true, ""},
		{"argan forest", "argan", 300_000_000, 10_000, true, ""},
		{"almond beyond orchards", "almond", 8_000_000_000, 10_000, false, "above the typical maximum of 6000 kg"},
		{"honey on forage", "honey", 40_000_000, 20_000, true, ""},
		{"pamm wild collection", "pamm", 500_000_000, 20_000, true, ""},
		{"unknown crop", "prickly_pear", 1, 1, true, ""},
		{"no area", "saffron", 4_000_000, 0, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flag, ok := CheckHarvest(tt.crop, tt.quantityMg, tt.areaM2)
			if ok != tt.ok || !strings.Contains(flag, tt.flag) || (ok && flag != "") {
				t.Errorf("CheckHarvest() = %q, %v; want ok %v and a flag containing %q", flag, ok, tt.ok, tt.flag)
			}
		})
	}
}

func TestCheckYield(t *testing.T) {
	tests := []struct {
		name             string
		process, in, out string
		inBase, outBase  int64
		inUnit, outUnit  Unit
		ok               bool
		flag             string // substring
	}{
		{"saffron dried 1/5", "drying", "saffron", "saffron_dried", 5_000_000, 1_000_000, Milligram, Milligram, true, ""},
		{"saffron dried gains mass", "drying", "saffron", "saffron_dried", 1_000_000, 400_000, Milligram, Milligram, false,
			"drying saffron → saffron_dried: 1 kg gave 400 g, a yield of 40 %, above the typical maximum of 25 %"},
		{"olive oil 18 %", "pressing", "olive", "olive_oil", 100_000_000, 19_700, Milligram, Millilitre, true, ""},
		{"olive oil 30 l from 100 kg", "pressing", "olive", "olive_oil", 100_000_000, 30_000, Milligram, Millilitre, false,
			"pressing olive → olive_oil: 100 kg gave 30 l, a yield of 0.3 l per kg, above the typical maximum of 0.273 l per kg"},
		{"olive oil weighed", "pressing", "olive", "olive_oil", 100_000_000, 18_000_000, Milligram, Milligram, false, "expected from mg to ml"},
		{"argan oil by press", "extraction", "argan_kernels", "argan_oil", 2_000_000, 1_000, Milligram, Millilitre, true, ""},
		{"argan oil from too few kernels", "extraction", "argan_kernels", "argan_oil", 1_000_000, 1_000, Milligram, Millilitre, false, "above the typical maximum"},
		{"rosemary essential oil 1 %", "distillation", "pamm", "essential_oil", 100_000_000, 1_100, Milligram, Millilitre, true, ""},
		{"essential oil 5 %", "distillation", "pamm", "essential_oil", 100_000_000, 5_600, Milligram, Millilitre, false, "above the typical maximum of 0.0333 l per kg"},
		{"rose 0.03 %", "distillation", "rose", "essential_oil", 1_000_000_000, 330, Milligram, Millilitre, true, ""},
		{"sorting saffron", "sorting", "saffron_dried", "saffron_dried", 1_000_000, 950_000, Milligram, Milligram, true, ""},
		{"sorting loses a third", "sorting", "saffron_dried", "saffron_dried", 1_000_000, 600_000, Milligram, Milligram, false, "below the typical minimum of 85 %"},
		{"sorting changes unit", "sorting", "olive_oil", "olive_oil", 1_000, 1_000, Millilitre, Milligram, false, "should keep the unit"},
		{"blending adds oil", "blending", "argan_oil", "argan_oil", 10_000, 10_500, Millilitre, Millilitre, false, "above the typical maximum of 100 %"},
		{"blending", "blending", "argan_oil", "argan_oil", 10_000, 9_900, Millilitre, Millilitre, true, ""},
		{"no input", "drying", "saffron", "saffron_dried", 0, 1_000, Milligram, Milligram, false, "no input quantity"},
		{"unknown process", "fermentation", "pamm", "vinegar", 1, 1_000_000, Milligram, Millilitre, true, ""},
		{"unknown kinds", "pressing", "prickly_pear_seeds", "prickly_pear_oil", 1, 1_000_000, Milligram, Millilitre, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flag, ok := CheckYield(tt.process, tt.in, tt.out, tt.inBase, tt.outBase, tt.inUnit, tt.outUnit)
			if ok != tt.ok || !strings.Contains(flag, tt.flag) || (ok && flag != "") {
				t.Errorf("CheckYield() = %q, %v; want ok %v and a flag containing %q", flag, ok, tt.ok, tt.flag)
			}
		})
	}
}
