package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Page selects a window of a list: Limit items after skipping Offset. The
// zero Page is the whole list; services bound what callers ask for with
// Normalized.
type Page struct {
	Limit  int
	Offset int
}

// MaxPageSize bounds every list a caller asks for.
const MaxPageSize = 200

// Normalized applies the defaults: 50 items, at most MaxPageSize.
func (p Page) Normalized() Page {
	if p.Limit <= 0 || p.Limit > MaxPageSize {
		p.Limit = 50
	}
	if p.Offset < 0 {
		p.Offset = 0
	}
	return p
}

// FindPage decodes one page of the documents of c matching filter, in sort
// order (ties broken by whatever sort lists next; give _id last for a
// stable order). A zero Limit returns every match.
func FindPage[T any](ctx context.Context, c *Collection, filter any, sort bson.D, p Page) ([]T, error) {
	opts := options.Find().SetSort(sort)
	if p.Limit > 0 {
		opts.SetSkip(int64(p.Offset)).SetLimit(int64(p.Limit))
	}
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var out []T
	err = cur.All(ctx, &out)
	return out, err
}
