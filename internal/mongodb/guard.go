package mongodb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Guarded updates: change one document, found by _id, only while a guard
// still holds on it (the status or sequence the caller read, "available >=
// n"). Domain code says what it means once; this file decides how.
//
// On a replica set the guard is part of the filter, checked atomically by
// the server. FerretDB v1 pushes a filter down to SQLite only when it is
// {_id: X} alone — {_id, status} scans the whole collection (seconds per
// update at 10 000 lots) — and applies updates as an unisolated
// read-modify-write anyway, so on the embedded store the document is read
// by _id inside Atomically (whose lock keeps it unchanged until the write),
// the guard is checked here in Go, and the write filters on _id alone.
//
// Guards compare top-level or dotted fields with plain values (equality)
// or with $exists, $eq, $ne, $gt, $gte, $lt, $lte and $in on scalars
// (strings, numbers, booleans, dates, null); anything else is an error,
// never a silent "matches".

// UpdateByIDIf applies update to the document with this _id if guard holds,
// and reports whether it did (false: no such document, or the guard fails).
func (c *Collection) UpdateByIDIf(ctx context.Context, id any, guard bson.M, update any) (bool, error) {
	return c.guarded(ctx, id, guard, func(ctx context.Context, filter any) (*mongo.UpdateResult, error) {
		return c.UpdateOne(ctx, filter, update)
	})
}

// ReplaceByIDIf replaces the document with this _id if guard holds, and
// reports whether it did.
func (c *Collection) ReplaceByIDIf(ctx context.Context, id any, guard bson.M, replacement any) (bool, error) {
	return c.guarded(ctx, id, guard, func(ctx context.Context, filter any) (*mongo.UpdateResult, error) {
		return c.ReplaceOne(ctx, filter, replacement)
	})
}

func (c *Collection) guarded(ctx context.Context, id any, guard bson.M, apply func(context.Context, any) (*mongo.UpdateResult, error)) (bool, error) {
	if !c.s.embedded {
		filter := bson.D{{Key: "_id", Value: id}}
		keys := make([]string, 0, len(guard))
		for k := range guard {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			filter = append(filter, bson.E{Key: k, Value: guard[k]})
		}
		r, err := apply(ctx, filter)
		if err != nil {
			return false, err
		}
		return r.MatchedCount == 1, nil
	}
	ok := false
	err := c.s.Atomically(ctx, func(ctx context.Context) error {
		byID := bson.D{{Key: "_id", Value: id}}
		doc, err := c.current(ctx, id)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil
		}
		if err != nil {
			return c.s.classify(err)
		}
		if ok, err = Matches(doc, guard); err != nil || !ok {
			return err
		}
		r, err := apply(ctx, byID)
		if err != nil {
			return err
		}
		ok = r.MatchedCount == 1
		return nil
	})
	return ok, err
}

// Matches reports whether doc satisfies guard, evaluated in Go with the
// operators listed above.
func Matches(doc bson.Raw, guard bson.M) (bool, error) {
	for path, cond := range guard {
		v, err := doc.LookupErr(strings.Split(path, ".")...)
		present := err == nil
		ops, isOps, err := operators(cond)
		if err != nil {
			return false, err
		}
		if !isOps {
			ops = map[string]any{"$eq": cond}
		}
		for op, arg := range ops {
			ok, err := applyOp(op, v, present, arg)
			if err != nil {
				return false, fmt.Errorf("mongodb: guard on %q: %w", path, err)
			}
			if !ok {
				return false, nil
			}
		}
	}
	return true, nil
}

// operators returns cond as its operators when it is an operator document.
func operators(cond any) (map[string]any, bool, error) {
	var m map[string]any
	switch c := cond.(type) {
	case bson.M:
		m = c
	case map[string]any:
		m = c
	case bson.D:
		m = map[string]any{}
		for _, e := range c {
			m[e.Key] = e.Value
		}
	default:
		return nil, false, nil
	}
	if len(m) == 0 {
		return nil, false, nil
	}
	dollar := 0
	for k := range m {
		if strings.HasPrefix(k, "$") {
			dollar++
		}
	}
	switch dollar {
	case 0:
		return nil, false, nil // a document compared for equality
	case len(m):
		return m, true, nil
	}
	return nil, false, errors.New("mongodb: a guard mixes operators and fields")
}

func applyOp(op string, v bson.RawValue, present bool, arg any) (bool, error) {
	switch op {
	case "$exists":
		want, ok := arg.(bool)
		if !ok {
			return false, errors.New("$exists takes true or false")
		}
		return present == want, nil
	case "$eq":
		return equalTo(v, present, arg)
	case "$ne":
		eq, err := equalTo(v, present, arg)
		return !eq, err
	case "$in":
		list, ok := arg.(bson.A)
		if !ok {
			if l, ok2 := arg.([]any); ok2 {
				list, ok = l, true
			}
		}
		if !ok {
			return false, errors.New("$in takes a bson.A")
		}
		for _, a := range list {
			if eq, err := equalTo(v, present, a); err != nil || eq {
				return eq, err
			}
		}
		return false, nil
	case "$gt", "$gte", "$lt", "$lte":
		if !present {
			return false, nil
		}
		w, err := rawOf(arg)
		if err != nil {
			return false, err
		}
		c, ok := compare(v, w)
		if !ok {
			return false, nil // different kinds never compare (MongoDB's type bracketing)
		}
		switch op {
		case "$gt":
			return c > 0, nil
		case "$gte":
			return c >= 0, nil
		case "$lt":
			return c < 0, nil
		}
		return c <= 0, nil
	}
	return false, fmt.Errorf("operator %s is not supported in a guard", op)
}

func equalTo(v bson.RawValue, present bool, arg any) (bool, error) {
	w, err := rawOf(arg)
	if err != nil {
		return false, err
	}
	if !present {
		return w.Type == bson.TypeNull, nil // null matches a missing field
	}
	if c, ok := compare(v, w); ok {
		return c == 0, nil
	}
	return v.Type == w.Type && bytes.Equal(v.Value, w.Value), nil
}

// rawOf marshals a Go value as a BSON value.
func rawOf(x any) (bson.RawValue, error) {
	if rv, ok := x.(bson.RawValue); ok {
		return rv, nil
	}
	b, err := bson.Marshal(bson.D{{Key: "v", Value: x}})
	if err != nil {
		return bson.RawValue{}, err
	}
	return bson.Raw(b).Lookup("v"), nil
}

// compare orders two scalars of the same kind; ok is false across kinds.
func compare(a, b bson.RawValue) (int, bool) {
	if ai, aok := intOf(a); aok {
		if bi, bok := intOf(b); bok {
			return cmpOrdered(ai, bi), true
		}
	}
	if af, aok := floatOf(a); aok {
		if bf, bok := floatOf(b); bok {
			return cmpOrdered(af, bf), true
		}
		return 0, false
	}
	if a.Type != b.Type {
		return 0, false
	}
	switch a.Type {
	case bson.TypeString:
		return strings.Compare(a.StringValue(), b.StringValue()), true
	case bson.TypeDateTime:
		return cmpOrdered(a.DateTime(), b.DateTime()), true
	case bson.TypeBoolean:
		x, y := a.Boolean(), b.Boolean()
		if x == y {
			return 0, true
		}
		if !x {
			return -1, true
		}
		return 1, true
	case bson.TypeNull:
		return 0, true
	}
	return 0, false
}

func intOf(v bson.RawValue) (int64, bool) {
	switch v.Type {
	case bson.TypeInt32:
		return int64(v.Int32()), true
	case bson.TypeInt64:
		return v.Int64(), true
	}
	return 0, false
}

func floatOf(v bson.RawValue) (float64, bool) {
	if i, ok := intOf(v); ok {
		return float64(i), true
	}
	if v.Type == bson.TypeDouble {
		return v.Double(), true
	}
	return 0, false
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
