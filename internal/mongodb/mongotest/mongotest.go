// Package mongotest gives each test a store of its own: a fresh embedded
// FerretDB in t.TempDir(), or, when MONGODB_URI is set, a unique database on
// that server that is dropped when the test ends.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// New opens a fresh store for t and closes it when t ends.
func New(t testing.TB) *mongodb.Store {
	t.Helper()
	ctx := context.Background()
	cfg := mongodb.Config{URI: os.Getenv("MONGODB_URI"), DataDir: t.TempDir()}
	if cfg.URI != "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		cfg.Database = "terroir_test_" + hex.EncodeToString(b)
	}
	s, err := mongodb.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open test store: %v", err)
	}
	t.Cleanup(func() {
		if cfg.URI != "" {
			_ = s.DB.Drop(context.Background())
		}
		s.Close()
	})
	return s
}

// CheckPacked checks a type stored packed (mongodb.Pack): every slice
// field of v's struct is one of keys and no other field is, so a new array
// is packed or left out by decision; v marshals with keys inside the
// packed field and none at the top; and v reads back equal both from that
// document and from old, the same value marshalled as it was stored
// before the packing (its stored twin, every field at the top).
func CheckPacked(t testing.TB, v, old any, keys map[string]bool) {
	t.Helper()
	typ := reflect.TypeOf(v)
	for i := range typ.NumField() {
		f := typ.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("bson"), ",")
		if key == "-" {
			continue
		}
		if slice := f.Type.Kind() == reflect.Slice; slice != keys[key] {
			t.Errorf("%s.%s (%q): a slice %v, packed %v", typ.Name(), f.Name, key, slice, keys[key])
		}
	}
	raw, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		if _, err := bson.Raw(raw).LookupErr(k); err == nil {
			t.Errorf("%s: %q stored at the top of the document", typ.Name(), k)
		}
	}
	if p, err := bson.Raw(raw).LookupErr(mongodb.PackedField); err != nil || p.Type != bson.TypeBinary {
		t.Errorf("%s: no binary %q field (%v)", typ.Name(), mongodb.PackedField, err)
	}
	before, err := bson.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string][]byte{"packed": raw, "written before the packing": before} {
		back := reflect.New(typ)
		if err := bson.Unmarshal(doc, back.Interface()); err != nil {
			t.Fatalf("%s %s: %v", typ.Name(), name, err)
		}
		if got := back.Elem().Interface(); !reflect.DeepEqual(got, v) {
			t.Errorf("%s %s reads back\n%+v\nwant\n%+v", typ.Name(), name, got, v)
		}
	}
}
