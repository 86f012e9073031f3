package traceability

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/internal/problem"
)

// FuzzMatchColumns sends arbitrary header rows (cells separated by ";") to
// the header matcher of every kind: it never panics, names each column once
// with its spreadsheet letter, fills each field from at most one column,
// only with fields of that kind, and gives a unit only to fields that take
// one.
func FuzzMatchColumns(f *testing.F) {
	for _, seed := range []string{
		"N° adhérent;Nom;Prénom;Sexe;Douar;Commune",
		"Code parcelle;Nom de la parcelle;N° adhérent;Superficie (ha);Culture;Latitude;Longitude",
		"parcel,member,date,crop,amount,unit",
		"Parcelle;Adhérente;Date de récolte;Poids (kg)",
		"رقم العضو;الاسم الكامل;الجنس;الدوار;الجماعة",
		"القطعة;العضو;التاريخ;الكمية (كلغ)",
		"Référentiel;Organisme;N° certificat;Valide du;Valide jusqu'au",
		"surface (;surface [];()();[m²];nom nom nom;;",
		"\ufeffnom;\x00;\xff\xfe;ـــ;َ",
		"Du;Au;De;La;A;N°",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		header := strings.Split(line, ";")
		for _, kind := range ImportKinds {
			specs := map[string]columnSpec{}
			for _, sp := range columnSpecs(ImportKind(kind)) {
				specs[sp.field] = sp
			}
			cols := MatchColumns(ImportKind(kind), header)
			if len(cols) != len(header) {
				t.Fatalf("%s: %d columns for %d headers", kind, len(cols), len(header))
			}
			filled := map[string]bool{}
			for i, c := range cols {
				if c.Index != i || c.Letter != columnLetter(i) {
					t.Fatalf("%s: column %d named %d %s", kind, i, c.Index, c.Letter)
				}
				if c.Field == "" {
					if c.Unit != "" || c.Note == "" {
						t.Fatalf("%s: ignored column %+v has a unit or no note", kind, c)
					}
					continue
				}
				sp, ok := specs[c.Field]
				if !ok {
					t.Fatalf("%s: field %q is not one of the kind", kind, c.Field)
				}
				if filled[c.Field] {
					t.Fatalf("%s: field %s filled twice", kind, c.Field)
				}
				filled[c.Field] = true
				if c.Unit != "" && canonicalUnit(c.Unit, sp.unitKind) != c.Unit {
					t.Fatalf("%s: field %s got unit %q", kind, c.Field, c.Unit)
				}
			}
		}
	})
}

// FuzzPreviewRegister sends arbitrary files — as CSV text, and the same
// cells as an XLSX sheet — to Preview and Apply of members and parcels on a
// real embedded store (one per fuzz worker). Nothing panics; Preview never
// writes; a refusal is always a client error and writes nothing; an
// accepted Apply writes exactly the rows it says it creates, and applying
// it again changes nothing.
func FuzzPreviewRegister(f *testing.F) {
	for _, seed := range []string{
		frenchMembersCSV,
		"code;nom;genre;village\nF-1;Itto;F;Siroua\nF-1;Itto;F;Siroua\n",
		"nom,genre,village\nLahcen,H,Tinzert\n",
		"code;nom;adherent;superficie (m2);latitude;longitude\nFP-1;Tamazirt;A-001;1200;30,53;-7,92\n",
		"code;nom;adherent;superficie;latitude;longitude\nFP-2;Igran;A-001;1200;30.53;-7.92\n",
		"nom;genre;village\n\"Itto;F;Siroua\n",
		"nom;genre;village\n{\"$gt\":\"\"};F;Siroua\n",
		"",
		"\ufeff",
	} {
		f.Add(seed)
	}
	db := mongotest.New(f)
	ctx := context.Background()
	if err := db.EnsureIndexes(ctx, Indexes()); err != nil {
		f.Fatal(err)
	}
	s := NewService(NewStore(db), func() time.Time { return time.Date(2025, 11, 20, 12, 0, 0, 0, time.UTC) })
	admin := access.Actor{UserID: "fuzz", Email: "fuzz@test", Role: access.Admin}
	if _, err := s.CreateCooperative(ctx, admin, Cooperative{Code: "SIROUA", Name: "Siroua", Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt"}); err != nil {
		f.Fatal(err)
	}
	if _, err := s.AddMember(ctx, admin, "SIROUA", Member{Code: "A-001", Name: "Fatima", Gender: "female", Village: "Siroua"}); err != nil {
		f.Fatal(err)
	}
	count := func(t *testing.T) int64 {
		var n int64
		for _, c := range []string{"members", "parcels"} {
			k, err := db.Collection(c).CountDocuments(ctx, bson.M{})
			if err != nil {
				t.Fatal(err)
			}
			n += k
		}
		return n
	}
	asXLSX := func(t *testing.T, text string) []byte {
		x := excelize.NewFile()
		defer x.Close()
		for r, line := range strings.Split(text, "\n") {
			if r >= 50 {
				break
			}
			cells := []any{}
			for _, c := range strings.Split(line, ";") {
				cells = append(cells, c)
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := x.SetSheetRow("Sheet1", cell, &cells); err != nil {
				return nil // excelize refuses some cells (too long): not our case
			}
		}
		buf, err := x.WriteToBuffer()
		if err != nil {
			return nil
		}
		return buf.Bytes()
	}
	f.Fuzz(func(t *testing.T, text string) {
		files := [][]byte{[]byte(text)}
		if b := asXLSX(t, text); b != nil {
			files = append(files, b)
		}
		for _, file := range files {
			for _, kind := range []ImportKind{ImportKindMembers, ImportKindParcels} {
				before := count(t)
				_, err := s.Preview(ctx, admin, "SIROUA", kind, "f", bytes.NewReader(file))
				if err != nil && (problem.CodeOf(err) == "" || problem.CodeOf(err) == problem.Unavailable) {
					t.Fatalf("preview failed with a server error: %v", err)
				}
				if count(t) != before {
					t.Fatal("preview wrote records")
				}
				p, err := s.Apply(ctx, admin, "SIROUA", kind, "f", bytes.NewReader(file))
				after := count(t)
				if err != nil {
					if c := problem.CodeOf(err); c == "" || c == problem.Unavailable {
						t.Fatalf("apply failed with a server error: %v", err)
					}
					if after != before {
						t.Fatalf("refused import (%v) wrote %d records", err, after-before)
					}
					continue
				}
				if after-before != int64(p.Counts.Create) {
					t.Fatalf("apply said %d created, wrote %d", p.Counts.Create, after-before)
				}
				again, err := s.Apply(ctx, admin, "SIROUA", kind, "f", bytes.NewReader(file))
				if err != nil || again.Counts.Create != 0 || again.Counts.Complete != 0 || count(t) != after {
					t.Fatalf("second apply: %v, %+v, %d → %d records", err, again.Counts, after, count(t))
				}
			}
		}
	})
}
