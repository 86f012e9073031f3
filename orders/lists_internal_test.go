package orders

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

func orderIDs(os []Order) []string {
	var out []string
	for _, o := range os {
		out = append(out, o.ID)
	}
	return out
}

// TestOrderLists: a channel's orders, newest first, and per status; a
// status change moves an order between status lists, a withdrawn order
// leaves both, and the lists come back the same from the collection.
func TestOrderLists(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	if err := db.EnsureIndexes(ctx, Indexes()); err != nil {
		t.Fatal(err)
	}
	s := NewStore(db)
	t0 := time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		o := Order{ID: fmt.Sprintf("ord_%d", i), Channel: "EU-PLATFORM", Status: StatusPendingPayment, CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		if err := s.insertOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.insertOrder(ctx, Order{ID: "ord_trd", Channel: "TAROUDANNT", Status: StatusPendingPayment, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	// ord_1 and ord_3 are paid (ord_3 first), ord_4 withdrawn.
	for _, id := range []string{"ord_3", "ord_1"} {
		err := db.Atomically(ctx, func(ctx context.Context) error {
			o, err := s.order(ctx, id)
			if err != nil {
				return err
			}
			o.Status = StatusPaid
			return s.saveOrder(ctx, o, StatusPendingPayment)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Atomically(ctx, func(ctx context.Context) error { return s.deleteOrder(ctx, "ord_4", "") }); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, c := range []struct {
			channel, status string
			p               mongodb.Page
			want            []string
		}{
			{"EU-PLATFORM", "", mongodb.Page{}, []string{"ord_3", "ord_2", "ord_1", "ord_0"}},
			{"EU-PLATFORM", "", mongodb.Page{Limit: 2, Offset: 1}, []string{"ord_2", "ord_1"}},
			{"EU-PLATFORM", StatusPendingPayment, mongodb.Page{}, []string{"ord_2", "ord_0"}},
			{"EU-PLATFORM", StatusPaid, mongodb.Page{}, []string{"ord_1", "ord_3"}},
			{"EU-PLATFORM", StatusFulfilled, mongodb.Page{}, nil},
			{"TAROUDANNT", "", mongodb.Page{}, []string{"ord_trd"}},
		} {
			got, err := s.orders(ctx, c.channel, c.status, c.p)
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			if when == "rebuilt" && c.status == StatusPaid {
				want = []string{"ord_3", "ord_1"} // rebuilt by creation, not by when they were paid
			}
			if !slices.Equal(orderIDs(got), want) {
				t.Errorf("%s: orders of %s %q %+v: %v, want %v", when, c.channel, c.status, c.p, orderIDs(got), want)
			}
		}
	}
	check("live")
	if _, err := db.Collection("lists").DeleteMany(ctx, bson.M{}); err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureIndexes(ctx, Indexes()); err != nil {
		t.Fatal(err)
	}
	check("rebuilt")
}
