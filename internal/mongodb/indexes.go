package mongodb

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Index is an index a domain store needs. Each domain declares its own and
// cmd/terroir passes them all to EnsureIndexes at start. An Index without
// Keys only makes sure the collection exists (so that its _id lookups are
// indexed on the embedded store from the start). An Index with a List
// also keeps that keyed list built (list.go): EnsureIndexes builds it from
// the collection when it never was.
type Index struct {
	Collection string
	Keys       []string // field names, ascending
	Unique     bool
	List       *List
}

// EnsureIndexes creates the indexes that do not exist yet, and builds the
// keyed lists that were never built. Creating an existing index with the
// same definition is a no-op, and a built list is left alone, so this runs
// at every start.
func (s *Store) EnsureIndexes(ctx context.Context, idx []Index) error {
	if slices.ContainsFunc(idx, func(ix Index) bool { return ix.List != nil }) {
		idx = append(slices.Clip(idx), Index{Collection: listCollection})
	}
	for _, ix := range idx {
		if len(ix.Keys) == 0 {
			err := s.DB.CreateCollection(ctx, ix.Collection)
			if err != nil && !isNamespaceExists(err) {
				return fmt.Errorf("mongodb: create collection %s: %w", ix.Collection, err)
			}
			continue
		}
		keys := bson.D{}
		name := ""
		for _, k := range ix.Keys {
			keys = append(keys, bson.E{Key: k, Value: 1})
			name += k + "_1_"
		}
		opts := options.Index().SetName(name[:len(name)-1])
		if ix.Unique {
			opts.SetUnique(true)
		}
		_, err := s.Collection(ix.Collection).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keys, Options: opts})
		if err != nil {
			return fmt.Errorf("mongodb: index %s on %s: %w", name, ix.Collection, err)
		}
	}
	if s.embedded {
		if err := s.indexIDLookups(ctx); err != nil {
			return err
		}
	}
	return s.ensureLists(ctx, idx, false)
}

// isNamespaceExists reports the error of creating a collection that exists.
func isNamespaceExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && (ce.Code == 48 || ce.Name == "NamespaceExists")
}
