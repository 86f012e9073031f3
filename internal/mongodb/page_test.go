package mongodb_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
)

func TestPageNormalized(t *testing.T) {
	for _, c := range []struct{ in, want mongodb.Page }{
		{mongodb.Page{}, mongodb.Page{Limit: 50}},
		{mongodb.Page{Limit: 10, Offset: 20}, mongodb.Page{Limit: 10, Offset: 20}},
		{mongodb.Page{Limit: mongodb.MaxPageSize + 1}, mongodb.Page{Limit: 50}},
		{mongodb.Page{Limit: -1, Offset: -5}, mongodb.Page{Limit: 50}},
	} {
		if got := c.in.Normalized(); got != c.want {
			t.Errorf("%+v.Normalized() = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestFindPage(t *testing.T) {
	s := mongotest.New(t)
	ctx := context.Background()
	coll := s.Collection("things")
	for i := range 7 {
		if _, err := coll.InsertOne(ctx, bson.M{"_id": fmt.Sprintf("t%d", i), "odd": i%2 == 1}); err != nil {
			t.Fatal(err)
		}
	}
	type thing struct {
		ID string `bson:"_id"`
	}
	ids := func(ts []thing) []string {
		var out []string
		for _, x := range ts {
			out = append(out, x.ID)
		}
		return out
	}
	byID := bson.D{{Key: "_id", Value: 1}}
	for _, c := range []struct {
		name   string
		filter bson.M
		sort   bson.D
		page   mongodb.Page
		want   []string
	}{
		{"whole list", bson.M{}, byID, mongodb.Page{}, []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6"}},
		{"second page", bson.M{}, byID, mongodb.Page{Limit: 3, Offset: 3}, []string{"t3", "t4", "t5"}},
		{"last page short", bson.M{}, byID, mongodb.Page{Limit: 3, Offset: 6}, []string{"t6"}},
		{"filtered, reversed", bson.M{"odd": true}, bson.D{{Key: "_id", Value: -1}}, mongodb.Page{Limit: 2}, []string{"t5", "t3"}},
		{"past the end", bson.M{}, byID, mongodb.Page{Limit: 3, Offset: 10}, nil},
	} {
		got, err := mongodb.FindPage[thing](ctx, coll, c.filter, c.sort, c.page)
		if err != nil {
			t.Fatal(c.name, err)
		}
		if !slices.Equal(ids(got), c.want) {
			t.Errorf("%s: got %v, want %v", c.name, ids(got), c.want)
		}
	}
}
