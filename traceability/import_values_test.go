package traceability

import (
	"math/big"
	"strings"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = refused
	}{
		{"1200", "1200"},
		{"1,5", "3/2"},        // French decimal comma
		{"0,125", "1/8"},      // not one hundred and twenty-five
		{"1 234,5", "2469/2"}, // space between thousands
		{"1\u00a0234,5", "2469/2"},
		{"1\u202f234,5", "2469/2"}, // narrow no-break space, as French Excel writes it
		{"1.234,5", "2469/2"},
		{"1,234.5", "2469/2"},
		{"1.234.567", "1234567"},
		{"-7,92", "-198/25"},
		{"30.53", "3053/100"},
		{"1.2E-3", "3/2500"},
		{"١٢٣٫٥", "247/2"}, // Arabic-Indic digits and decimal separator
		{"", ""},
		{"abc", ""},
		{"1,2,3", ""},
		{"12,5.3", ""},
		{"5,", ""},
		{"1..2", ""},
		{"--1", ""},
	}
	for _, tt := range tests {
		got, ok := parseDecimal(tt.in)
		switch {
		case tt.want == "" && ok:
			t.Errorf("parseDecimal(%q) = %s, want refused", tt.in, got.RatString())
		case tt.want != "" && !ok:
			t.Errorf("parseDecimal(%q) refused, want %s", tt.in, tt.want)
		case tt.want != "" && got.RatString() != tt.want:
			t.Errorf("parseDecimal(%q) = %s, want %s", tt.in, got.RatString(), tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in     string
		serial bool
		want   string
	}{
		{"15/11/2025", false, "2025-11-15"},
		{"15-11-2025", false, "2025-11-15"},
		{"15.11.2025", false, "2025-11-15"},
		{"5/3/2025", false, "2025-03-05"}, // day first: the 5th of March
		{"15/11/25", false, "2025-11-15"},
		{"2025-11-15", false, "2025-11-15"},
		{"2025/11/15", false, "2025-11-15"},
		{"2025-11-15T08:30:00Z", false, "2025-11-15"},
		{"15/11/2025 08:30", false, "2025-11-15"},
		{"15 novembre 2025", false, "2025-11-15"},
		{"1er mars 2025", false, "2025-03-01"},
		{"15 Nov 2025", false, "2025-11-15"},
		{"١٥/١١/٢٠٢٥", false, "2025-11-15"},
		{"45976", true, "2025-11-15"}, // a spreadsheet's date cell
		{"45976", false, ""},
		{"11/15/2025", false, ""}, // month 15: American order is not guessed
		{"31/02/2025", false, ""},
		{"2025-13-01", false, ""},
		{"demain", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		got, ok := parseDate(tt.in, tt.serial, false)
		if tt.want == "" {
			if ok {
				t.Errorf("parseDate(%q) = %s, want refused", tt.in, got)
			}
			continue
		}
		if !ok || got != tt.want {
			t.Errorf("parseDate(%q, serial %v) = %q, %v; want %s", tt.in, tt.serial, got, ok, tt.want)
		}
	}
}

func TestParseGenderAndCrop(t *testing.T) {
	for in, want := range map[string]string{"F": "female", "femme": "female", "Féminin": "female", "أنثى": "female", "Mme": "female",
		"H": "male", "M": "male", "homme": "male", "ذكر": "male", "Male": "male", "x": "", "": ""} {
		if got, _ := parseGender(in); got != want {
			t.Errorf("parseGender(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"Safran": "saffron", "الزعفران": "saffron", "saffron": "saffron", "Arganier": "argan",
		"Romarin": "pamm", "olivier": "olive", "Amandier": "almond", "miel": "honey", "blé": ""} {
		if got, _ := parseCrop(in); got != want {
			t.Errorf("parseCrop(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"huile d'argan": "argan_oil", "Safran séché": "saffron_dried", "argan_oil": "argan_oil", "safran": "saffron"} {
		if got, _ := parseProductKind(in); got != want {
			t.Errorf("parseProductKind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAreaAndQuantityConversions(t *testing.T) {
	r := func(s string) *big.Rat { v, _ := new(big.Rat).SetString(s); return v }
	for _, tt := range []struct {
		v, unit string
		want    int64
	}{{"0.12", "ha", 1200}, {"12", "a", 1200}, {"1200", "m2", 1200}, {"0.00005", "ha", 1}, {"1200.4", "m2", 1200}, {"1200.5", "m2", 1201}} {
		if got, ok := areaToM2(r(tt.v), tt.unit); !ok || got != tt.want {
			t.Errorf("areaToM2(%s %s) = %d, want %d", tt.v, tt.unit, got, tt.want)
		}
	}
	for _, tt := range []struct {
		v, unit string
		want    Quantity
		ok      bool
	}{
		{"1.5", "kg", Quantity{1500, "g"}, true},
		{"1.25", "kg", Quantity{1250, "g"}, true},
		{"2", "kg", Quantity{2, "kg"}, true},
		{"0.0005", "g", Quantity{}, false}, // half a milligram
		{"0.25", "l", Quantity{250, "ml"}, true},
		{"1.5", "pcs", Quantity{}, false},
	} {
		got, ok := exactQuantity(r(tt.v), tt.unit)
		if ok != tt.ok || got != tt.want {
			t.Errorf("exactQuantity(%s %s) = %v, %v; want %v, %v", tt.v, tt.unit, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMatchColumns(t *testing.T) {
	tests := []struct {
		kind   ImportKind
		header string
		want   string // field[unit] per column, "-" for ignored
	}{
		{ImportKindMembers, "N° adhérent;Nom;Prénom;Sexe;Douar;Commune;Téléphone", "code;name;first_name;gender;village;commune;-"},
		{ImportKindMembers, "Member ID;Full name;Gender;Village", "code;name;gender;village"},
		{ImportKindMembers, "رقم العضو;الاسم الكامل;الجنس;الدوار;الجماعة", "code;name;gender;village;commune"},
		{ImportKindMembers, "code;name;gender;village", "code;name;gender;village"},
		{ImportKindMembers, "Nom;Nom", "name;-"},
		{ImportKindParcels, "Code parcelle;Nom de la parcelle;N° adhérent;Superficie (ha);Culture;Latitude;Longitude", "code;name;member;area_m2[ha];crop;latitude;longitude"},
		{ImportKindParcels, "parcel code;name;member;area_m2;crop;lat;lon", "code;name;member;area_m2[m2];crop;latitude;longitude"},
		{ImportKindParcels, "Surface en m²;المساحة (هكتار);Nom de l'adhérent", "area_m2[m2];-;member"},
		{ImportKindParcels, "superficie_ha", "area_m2[ha]"},
		{ImportKindHarvests, "parcel,member,date,crop,amount,unit", "parcel;member;date;crop;amount;unit"},
		{ImportKindHarvests, "Parcelle;Adhérente;Date de récolte;Poids (kg)", "parcel;member;date;amount[kg]"},
		{ImportKindHarvests, "القطعة;العضو;التاريخ;الكمية (كلغ)", "parcel;member;date;amount[kg]"},
		{ImportKindCertifications, "Référentiel;Organisme certificateur;N° certificat;Valide du;Valide jusqu'au;Produits;Parcelles", "scheme;body;number;valid_from;valid_to;product_kinds;parcels"},
		{ImportKindCertifications, "Scheme;Body;Body code;Number;From;To", "scheme;body;body_code;number;valid_from;valid_to"},
	}
	for _, tt := range tests {
		cols := MatchColumns(tt.kind, strings.Split(strings.ReplaceAll(tt.header, ",", ";"), ";"))
		var got []string
		for _, c := range cols {
			s := c.Field
			if s == "" {
				s = "-"
			}
			if c.Unit != "" {
				s += "[" + c.Unit + "]"
			}
			got = append(got, s)
		}
		if strings.Join(got, ";") != tt.want {
			t.Errorf("%s %q:\n got %s\nwant %s", tt.kind, tt.header, strings.Join(got, ";"), tt.want)
		}
	}
	cols := MatchColumns(ImportKindMembers, []string{"Nom", "Nom", ""})
	if cols[1].Note != "duplicate" || cols[1].DuplicateOf != "A" || cols[2].Note != "empty" || cols[2].Letter != "C" {
		t.Errorf("notes: %+v", cols)
	}
}

func TestColumnLetter(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA"} {
		if got := columnLetter(i); got != want {
			t.Errorf("columnLetter(%d) = %s, want %s", i, got, want)
		}
	}
}

func TestPlaces(t *testing.T) {
	ix := newPlaceIndex()
	ix.add("Tizi n'Test")
	for in, want := range map[string]string{"TALIOUINE": "Taliouine", "تالوين": "Taliouine", "ait rkha": "Aït Rkha", "Aït-Rkha": "Aït Rkha",
		"Tiouziouine": "Tiwizwine", "tizi n test": "Tizi n'Test", "Arbaa Sahel": "Arbâa Sahel"} {
		if got, ok := ix.resolve(in); !ok || got != want {
			t.Errorf("resolve(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := ix.resolve("Tizi Ouzou"); ok {
		t.Error("an unknown place resolved")
	}
	if got := ix.suggest("Sirou"); got != "Siroua" {
		t.Errorf("suggest(Sirou) = %q", got)
	}
	if got := ix.suggest("Casablanca"); got != "" {
		t.Errorf("suggest(Casablanca) = %q, want nothing", got)
	}
}
