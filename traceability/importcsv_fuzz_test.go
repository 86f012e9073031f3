package traceability

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/internal/problem"
)

// FuzzImportHarvests sends arbitrary CSV files to ImportKindHarvests on a real
// embedded store (one per fuzz worker; the checks compare counts before and
// after, so earlier inputs do not matter: a file sent again writes nothing). PARCEL and MEMBER in an input
// stand for the IDs of the store's parcel and member, so seeds can hold
// valid rows. The import never panics, refuses only with a client error,
// writes nothing when it refuses, writes exactly the rows it counts when it
// accepts, and never lets a parcel's season total go negative.
func FuzzImportHarvests(f *testing.F) {
	const header = "parcel,member,date,crop,amount,unit\n"
	for _, seed := range []string{
		header + "PARCEL,MEMBER,2025-10-28,saffron,1200,g\n",
		"\ufeff" + header + "PARCEL,MEMBER,2025-10-28,saffron,1,kg\nPARCEL,MEMBER,2025-10-29,saffron,300,g\n",
		header + "PARCEL,MEMBER,2025-10-28,saffron,-5,g\n",
		header + "PARCEL,MEMBER,2025-10-28,saffron,9223372036854775807,mg\nPARCEL,MEMBER,2025-10-28,saffron,9223372036854775807,mg\n",
		header + "PARCEL,MEMBER,2099-01-01,saffron,1,g\n",
		header + "PARCEL,MEMBER,2025-10-28,argan,1,g\n",
		header + "prc_unknown,MEMBER,2025-10-28,saffron,1,g\n",
		header + "PARCEL,MEMBER,2025-10-28,saffron,1\n",
		header + "\"PARCEL,MEMBER,2025-10-28,saffron,1,g\n",
		header + "{\"$gt\":\"\"},MEMBER,2025-10-28,saffron,1,g\n",
		header,
		"",
		"parcel;member;date\n",
	} {
		f.Add(seed)
	}
	db := mongotest.New(f)
	ctx := context.Background()
	if err := db.EnsureIndexes(ctx, Indexes()); err != nil {
		f.Fatal(err)
	}
	s := NewService(NewStore(db), func() time.Time { return time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC) })
	admin := access.Actor{UserID: "fuzz", Email: "fuzz@test", Role: access.Admin}
	if _, err := s.CreateCooperative(ctx, admin, Cooperative{Code: "SIROUA", Name: "Siroua", Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt"}); err != nil {
		f.Fatal(err)
	}
	m, err := s.AddMember(ctx, admin, "SIROUA", Member{Name: "Fatima", Gender: "female", Village: "Siroua"})
	if err != nil {
		f.Fatal(err)
	}
	p, err := s.AddParcel(ctx, admin, "SIROUA", NewParcel{Name: "Tamazirt", Member: m.ID, Commune: "Taliouine", AreaM2: 1000, Crop: "saffron",
		Location: Geometry{Type: "Point", Coordinates: []byte(`[-7.92,30.53]`)}})
	if err != nil {
		f.Fatal(err)
	}
	harvests := func(t *testing.T) int64 {
		n, err := db.Collection("harvests").CountDocuments(ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	f.Fuzz(func(t *testing.T, file string) {
		file = strings.ReplaceAll(strings.ReplaceAll(file, "PARCEL", p.ID), "MEMBER", m.ID)
		before := harvests(t)
		n, err := s.ImportHarvests(ctx, admin, "SIROUA", strings.NewReader(file))
		after := harvests(t)
		if err != nil {
			if c := problem.CodeOf(err); c == "" || c == problem.Unavailable {
				t.Fatalf("import refused with a server error: %v", err)
			}
			if after != before || n != 0 {
				t.Fatalf("refused import (%v) wrote %d harvests and answered %d", err, after-before, n)
			}
			return
		}
		// A file whose rows are all recorded already is accepted and
		// writes nothing: n is 0 then.
		if n < 0 || after-before != int64(n) {
			t.Fatalf("import answered %d rows but wrote %d", n, after-before)
		}
		stored, err := s.store.parcel(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range stored.SeasonTotals {
			if v < 0 {
				t.Fatalf("season total %s went negative: %d", k, v)
			}
		}
	})
}
