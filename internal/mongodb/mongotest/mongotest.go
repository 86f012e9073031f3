// Package mongotest gives each test a store of its own: a fresh embedded
// FerretDB in t.TempDir(), or, when MONGODB_URI is set, a unique database on
// that server that is dropped when the test ends.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

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
