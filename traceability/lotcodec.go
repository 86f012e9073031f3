package traceability

import (
	"fmt"
	"reflect"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// A lot's document keeps its lines — origin, inputs and outputs, claims,
// flags, lab results, shares and their history, the unsealed events — in
// its packed field (mongodb.Pack: why, and what it saves); the fields
// queries, guards and sorts use (code, cooperative, kind, quantities,
// sequence, head hash, dates…) stay fields of their own. Nothing filters
// on a lot's lines: a lot is found by its code or its cooperative's list.
//
// Documents written before the packing (every field at the top) are read
// as they are and packed at their next write: every write of a lot
// replaces its document (updateLotEvent). No migration runs at start; a
// lot never written since keeps costing what it cost.
var packedLotKeys = map[string]bool{
	"origin": true, "inputs": true, "outputs": true, "claims": true, "flags": true, "lab_results": true,
	"events": true, "shares": true, "share_history": true,
}

// storedLot is Lot without its codec: the document as its fields say.
type storedLot Lot

// MarshalBSON writes the lot with its lines packed (packedLotKeys).
func (l Lot) MarshalBSON() ([]byte, error) { return mongodb.MarshalPacked(storedLot(l), packedLotKeys) }

// UnmarshalBSON reads a lot, packed or not.
func (l *Lot) UnmarshalBSON(data []byte) error {
	*l = Lot{}
	if err := mongodb.UnmarshalPacked(data, (*storedLot)(l)); err != nil {
		return fmt.Errorf("lot document: %w", err)
	}
	return nil
}

// applyLotUpdate returns cur changed as update says, with the operators
// the lot's writes use — $set, $inc and $push (of one value, or $each of
// a slice) of top-level fields — so that a lot is written whole, packed,
// whatever the change.
func applyLotUpdate(cur Lot, update bson.M) (Lot, error) {
	raw, err := bson.Marshal(storedLot(cur))
	if err != nil {
		return Lot{}, err
	}
	var doc bson.M
	if err := bson.Unmarshal(raw, &doc); err != nil {
		return Lot{}, err
	}
	for op, fields := range update {
		m, ok := fields.(bson.M)
		if !ok {
			return Lot{}, fmt.Errorf("lot update: %s takes a bson.M, got %T", op, fields)
		}
		for k, v := range m {
			switch op {
			case "$set":
				doc[k] = v
			case "$inc":
				n, ok := asInt64(v)
				have, okHave := asInt64(doc[k])
				if !ok || (doc[k] != nil && !okHave) {
					return Lot{}, fmt.Errorf("lot update: $inc of %q: %T onto %T", k, v, doc[k])
				}
				doc[k] = have + n
			case "$push":
				arr, _ := doc[k].(bson.A)
				if doc[k] != nil && arr == nil {
					return Lot{}, fmt.Errorf("lot update: $push onto %q, a %T", k, doc[k])
				}
				if each, ok := v.(bson.M); ok && len(each) == 1 && each["$each"] != nil {
					s := reflect.ValueOf(each["$each"])
					if s.Kind() != reflect.Slice {
						return Lot{}, fmt.Errorf("lot update: $push $each of %q: %T", k, each["$each"])
					}
					for i := range s.Len() {
						arr = append(arr, s.Index(i).Interface())
					}
				} else {
					arr = append(arr, v)
				}
				doc[k] = arr
			default:
				return Lot{}, fmt.Errorf("lot update: operator %s", op)
			}
		}
	}
	if raw, err = bson.Marshal(doc); err != nil {
		return Lot{}, err
	}
	var next Lot
	return next, bson.Unmarshal(raw, (*storedLot)(&next))
}

func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case nil:
		return 0, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}
