package main

import (
	"bytes"
	"context"
	"io"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestSeedingTwiceDuplicatesNothing seeds the demo network twice on one data
// directory and checks that every collection holds the same documents, and
// that the seeded records verify.
func TestSeedingTwiceDuplicatesNothing(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"seed", "--data", dir}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("first seed: %d %s", code, errOut.String())
	}
	counts := func() map[string]int64 {
		ctx := context.Background()
		a, err := openApp(ctx, config{DataDir: dir}, newLogger(io.Discard))
		if err != nil {
			t.Fatal(err)
		}
		defer a.close()
		got := map[string]int64{}
		for _, c := range []string{"cooperatives", "members", "shops", "users", "parcels", "harvests", "lots", "products", "balances", "movements", "certifications"} {
			n, err := a.store.Collection(c).CountDocuments(ctx, bson.M{})
			if err != nil {
				t.Fatal(err)
			}
			got[c] = n
		}
		return got
	}
	first := counts()
	if first["lots"] == 0 || first["balances"] == 0 || first["users"] != int64(len(demoUsers)) {
		t.Fatalf("demo seeded %v", first)
	}
	if code := run([]string{"seed", "--data", dir}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("second seed: %d %s", code, errOut.String())
	}
	for c, n := range counts() {
		if n != first[c] {
			t.Errorf("%s: %d after the second seed, %d after the first", c, n, first[c])
		}
	}
	out.Reset()
	if code := run([]string{"verify", "--data", dir}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("the demo does not verify: %s", out.String())
	}
}
