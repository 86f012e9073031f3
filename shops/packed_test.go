package shops

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/traceability"
)

// TestShelvesArePacked: a shelf's lots (and nothing else) are stored
// packed; it reads back as written, and as written before the packing
// (every field at the top).
func TestShelvesArePacked(t *testing.T) {
	claims := []traceability.Claim{{Certification: "crt_1", Scheme: "aop"}, {Certification: "crt_2", Scheme: "organic"}}
	sh := Shelf{ID: "TAROUDANNT|SAF-TAL-1G", Shop: "TAROUDANNT", SKU: "SAF-TAL-1G", Units: 12, Reserved: 2, Threshold: 3,
		Lots: []ShelfLot{{Lot: "SAF-1", BestBefore: "2028-12-31", Claims: claims}, {Lot: "SAF-2", BestBefore: "2029-01-31"}}}
	mongotest.CheckPacked(t, sh, storedShelf(sh), packedShelfKeys)
	raw, err := bson.Marshal(sh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bson.Raw(raw).LookupErr("shop"); err != nil {
		t.Errorf("%q (a filter's field) is not at the top", "shop")
	}
}
