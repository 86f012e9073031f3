package shops

import (
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/traceability"
)

// TestShelvesArePacked: a shelf's lots (and nothing else) are stored
// packed; it reads back as written, and as written before the packing
// (every field at the top).
func TestShelvesArePacked(t *testing.T) {
	claims := []traceability.Claim{{Certification: "crt_1", Scheme: "aop"}, {Certification: "crt_2", Scheme: "organic"}}
	sh := Shelf{ID: "TAROUDANNT|SAF-TAL-1G", Shop: "TAROUDANNT", SKU: "SAF-TAL-1G", Units: 12, Reserved: 2, Threshold: 3,
		Lots: []ShelfLot{{Lot: "SAF-1", BestBefore: "2028-12-31", Claims: claims}, {Lot: "SAF-2", BestBefore: "2029-01-31"}}}
	for _, tc := range []struct {
		name        string
		v           any
		stored      any // the same value, as written before the packing
		packed      map[string]bool
		topLevelKey string
	}{
		{"shelf", sh, storedShelf(sh), packedShelfKeys, "shop"},
	} {
		typ := reflect.TypeOf(tc.v)
		for i := range typ.NumField() {
			f := typ.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("bson"), ",")
			if slice := f.Type.Kind() == reflect.Slice; slice != tc.packed[key] {
				t.Errorf("%s field %s (%q): a slice %v, packed %v", tc.name, f.Name, key, slice, tc.packed[key])
			}
		}
		raw, err := bson.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		for k := range tc.packed {
			if _, err := bson.Raw(raw).LookupErr(k); err == nil {
				t.Errorf("%s: %q stored at the top", tc.name, k)
			}
		}
		if _, err := bson.Raw(raw).LookupErr(mongodb.PackedField); err != nil {
			t.Errorf("%s: no packed field", tc.name)
		}
		if _, err := bson.Raw(raw).LookupErr(tc.topLevelKey); err != nil {
			t.Errorf("%s: %q (a filter's field) is not at the top", tc.name, tc.topLevelKey)
		}
		old, err := bson.Marshal(tc.stored)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range [][]byte{raw, old} {
			back := reflect.New(typ).Interface()
			if err := bson.Unmarshal(doc, back); err != nil {
				t.Fatal(err)
			}
			if got := reflect.ValueOf(back).Elem().Interface(); !reflect.DeepEqual(got, tc.v) {
				t.Errorf("%s read back\n%+v\nwant\n%+v", tc.name, got, tc.v)
			}
		}
	}
}
