package mongodb_test

import (
	"bytes"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// TestPackRoundTrip: the packed keys go into one binary field and come
// back; a document never packed unpacks as it is; a field named like the
// packed one is refused rather than lost.
func TestPackRoundTrip(t *testing.T) {
	doc, err := bson.Marshal(bson.D{{Key: "_id", Value: "x"}, {Key: "lines", Value: bson.A{bson.D{{Key: "n", Value: int64(1)}}, bson.D{{Key: "n", Value: int64(2)}}}},
		{Key: "count", Value: int64(2)}, {Key: "meta", Value: bson.D{{Key: "by", Value: "me"}}}})
	if err != nil {
		t.Fatal(err)
	}
	packed, err := mongodb.Pack(doc, map[string]bool{"lines": true, "meta": true, "absent": true})
	if err != nil {
		t.Fatal(err)
	}
	var top bson.M
	if err := bson.Unmarshal(packed, &top); err != nil {
		t.Fatal(err)
	}
	if _, ok := top["lines"]; ok || top["count"] != int64(2) || top[mongodb.PackedField] == nil {
		t.Fatalf("packed document %v", top)
	}
	back, err := mongodb.Unpack(packed)
	if err != nil {
		t.Fatal(err)
	}
	var want, got bson.M
	if err := bson.Unmarshal(doc, &want); err != nil {
		t.Fatal(err)
	}
	if err := bson.Unmarshal(back, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("unpacked %v, want %v", got, want)
	}
	if same, err := mongodb.Unpack(doc); err != nil || !bytes.Equal(same, doc) {
		t.Fatalf("a document never packed: %v", err)
	}
	if _, err := mongodb.Pack(packed, map[string]bool{"count": true}); err == nil {
		t.Fatal("packing a packed document again was not refused")
	}
}
