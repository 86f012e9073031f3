package traceability

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Scan batches: how a flush of ScanBuffer reaches the per-code counters.
//
// A flush writes what it counted as one batch in scan_batches — one
// insert (one SQLite commit and one fsync on the embedded store) whatever
// the number of codes; past scanBatchCodes codes the batch is several
// documents, still inserted by that one command. From then on its scans
// are durable. It then folds the batch into the codes' ScanStat documents
// (each still read with one _id lookup) with update commands of
// mongodb.UpdateEachLimit statements, unsynced (mongodb.Unsynced): a power
// cut may lose them, never the batch, which is deleted only after its
// fold. Each statement adds the code's delta ($inc, filtered on _id alone)
// and records the batch in the code's counter. Folding a batch again,
// after a crash or an error cut its fold short, first reads each code
// (one _id lookup) and skips those that already record it, so it adds
// nothing twice. A batch left by a dead process is folded at the next
// start (or first read); on a replica set, a running instance also folds
// another's once it is scanForeignAge old.
//
// On a replica set two instances fold different batches into the same
// code at once safely ($inc). A count can be added twice only when two
// instances refold the same batch at the same moment (both read the code
// before either writes): an instance that starts while another's fold of
// a fresh batch is under way, or a crashed folder's batch refolded by two
// instances within the same flush.

// scanDelta is one code's scans in a batch.
type scanDelta struct {
	Key    string    `bson:"key"`
	Lot    string    `bson:"lot"`
	Serial string    `bson:"serial,omitempty"`
	Coop   string    `bson:"coop"`
	Delta  int64     `bson:"delta"`
	Units  int64     `bson:"units,omitempty"` // a packed lot's units, for its threshold
	First  time.Time `bson:"first"`
	Last   time.Time `bson:"last"`
	// Suspicious: the count the page showed with these scans was over the
	// thresholds.
	Suspicious bool `bson:"suspicious,omitempty"`
	// Fresh: when the batch was written the code had no counter (the
	// buffer knew every stored count), so its first fold inserts one.
	Fresh bool `bson:"fresh,omitempty"`
}

// scanBatch is one document of a flush's batch.
type scanBatch struct {
	ID    string      `bson:"_id"` // the flush's ObjectID, "/", the part: ordered
	At    time.Time   `bson:"at"`
	Codes []scanDelta `bson:"codes"`

	done  int // codes folded so far by this process
	tries int // folds of it that failed
}

// newScanBatch makes the documents of one flush, in key order.
func newScanBatch(at time.Time, taken map[string]*pendingScan) []*scanBatch {
	keys := make([]string, 0, len(taken))
	for k := range taken {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	flush := bson.NewObjectIDFromTimestamp(at).Hex()
	var out []*scanBatch
	for i, k := range keys {
		if i%scanBatchCodes == 0 {
			out = append(out, &scanBatch{ID: fmt.Sprintf("%s/%03d", flush, len(out)), At: at})
		}
		p := taken[k]
		b := out[len(out)-1]
		b.Codes = append(b.Codes, scanDelta{Key: k, Lot: p.stat.Lot, Serial: p.stat.Serial, Coop: p.stat.Coop, Delta: p.delta,
			Units: p.units, First: p.stat.FirstScan, Last: p.stat.LastScan, Suspicious: p.suspicious, Fresh: p.fresh})
	}
	return out
}

// insertScanBatch writes the documents of one flush in one insert.
func (s *Store) insertScanBatch(ctx context.Context, parts []*scanBatch) error {
	docs := make([]any, len(parts))
	for i, p := range parts {
		docs[i] = p
	}
	_, err := s.db.Collection("scan_batches").InsertMany(ctx, docs)
	return err
}

type scanBatchID struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

// scanBatchIDs lists the stored batches, oldest first (a small
// collection: batches live from one flush to its fold).
func (s *Store) scanBatchIDs(ctx context.Context) ([]scanBatchID, error) {
	cur, err := s.db.Collection("scan_batches").Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"_id": 1, "at": 1}))
	if err != nil {
		return nil, err
	}
	var ids []scanBatchID
	if err := cur.All(ctx, &ids); err != nil {
		return nil, err
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].ID < ids[j].ID })
	return ids, nil
}

func (s *Store) scanBatch(ctx context.Context, id string) (*scanBatch, bool, error) {
	var b scanBatch
	err := s.db.Collection("scan_batches").FindOne(ctx, bson.M{"_id": id}).Decode(&b)
	if mongodb.IsNotFound(err) {
		return nil, false, nil
	}
	return &b, err == nil, err
}

// foldScanBatch folds the codes of b from b.done on into their counters,
// mongodb.UpdateEachLimit per update command, calling folded after each command with
// the codes it folded (surprised: one it meant to insert had a counter
// after all), then deletes b. again says an earlier fold of b may
// have landed in part: each code is then read first (its own _id lookup),
// so a code already folded is skipped and a suspicious flag comes from the
// stored count.
// fault, for the tests, is called before each command (deleting: before
// the delete) and stops the fold when it fails.
func (s *Store) foldScanBatch(ctx context.Context, b *scanBatch, again bool, folded func(done []scanDelta, surprised bool), fault func(deleting bool) error) error {
	ctx = mongodb.Unsynced(ctx)
	scans := s.db.Collection("scans")
	for b.done < len(b.Codes) {
		chunk := b.Codes[b.done:min(b.done+mongodb.UpdateEachLimit, len(b.Codes))]
		list := make([]mongodb.OneUpdate, 0, len(chunk))
		var fresh []scanDelta
		for _, d := range chunk {
			flag := d.Suspicious
			if d.Fresh && !again {
				fresh = append(fresh, d)
				continue
			}
			if again {
				cur, err := s.scanStat(ctx, d.Key)
				if err != nil {
					return err
				}
				if cur.Batch == b.ID {
					continue // folded before
				}
				flag = flag || suspiciousUnits(d.Serial, d.Units, cur.Count+d.Delta)
			}
			list = append(list, foldStatement(b.ID, d, flag))
		}
		if fault != nil {
			if err := fault(false); err != nil {
				return err
			}
		}
		taken, err := insertCounters(ctx, scans, b.ID, fresh)
		if err != nil {
			return err
		}
		surprised := false
		for _, d := range fresh {
			if taken[d.Key] {
				continue
			}
			surprised = true // the flag comes from the count found, as in a refold
			cur, err := s.scanStat(ctx, d.Key)
			if err != nil {
				return err
			}
			list = append(list, foldStatement(b.ID, d, d.Suspicious || suspiciousUnits(d.Serial, d.Units, cur.Count+d.Delta)))
		}
		if len(list) > 0 {
			if _, _, err := scans.UpdateEach(ctx, list); err != nil {
				return err
			}
		}
		b.done += len(chunk)
		if folded != nil {
			folded(chunk, surprised)
		}
	}
	if fault != nil {
		if err := fault(true); err != nil {
			return err
		}
	}
	_, err := s.db.Collection("scan_batches").DeleteOne(ctx, bson.M{"_id": b.ID})
	return err
}

// insertCounters creates the counters of codes that had none when their
// batch was written, in one insert command: the document foldStatement's
// upsert would create, without FerretDB's read-modify-write of an upsert
// (a cold scan's fold is an upsert per code: a sixth of the server's CPU
// in the load tool's cold mix). A code whose counter exists after all
// (another instance, or a batch in flight before it) is a duplicate key,
// left out of the returned set for the caller to upsert as usual.
func insertCounters(ctx context.Context, scans *mongodb.Collection, batch string, fresh []scanDelta) (map[string]bool, error) {
	if len(fresh) == 0 {
		return nil, nil
	}
	docs := make([]any, len(fresh))
	for i, d := range fresh {
		docs[i] = ScanStat{Key: d.Key, Lot: d.Lot, Serial: d.Serial, Coop: d.Coop, Count: d.Delta,
			FirstScan: d.First, LastScan: d.Last, Suspicious: d.Suspicious, Batch: batch}
	}
	inserted := make(map[string]bool, len(fresh))
	for _, d := range fresh {
		inserted[d.Key] = true
	}
	_, err := scans.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bulk mongo.BulkWriteException
	if errors.As(err, &bulk) && bulk.WriteConcernError == nil {
		for _, we := range bulk.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) || we.Index < 0 || we.Index >= len(fresh) {
				return nil, err
			}
			delete(inserted, fresh[we.Index].Key)
		}
		err = nil
	}
	return inserted, err
}

// foldStatement adds one code's delta to its counter and records batch as
// the last one folded into it, creating the counter at its first batch.
func foldStatement(batch string, d scanDelta, suspicious bool) mongodb.OneUpdate {
	set := bson.M{"lot": d.Lot, "serial": d.Serial, "coop": d.Coop, "batch": batch}
	update := bson.M{
		"$inc": bson.M{"count": d.Delta},
		"$min": bson.M{"first_scan": d.First},
		"$max": bson.M{"last_scan": d.Last},
		"$set": set,
	}
	if suspicious {
		set["suspicious"] = true // counts only grow: never unset
	} else {
		update["$setOnInsert"] = bson.M{"suspicious": false}
	}
	// {_id} alone: FerretDB pushes down to SQLite only that filter; any
	// other key in it scans the whole collection per statement (measured:
	// a fold of 1 400 codes kept an idle server at 40 % of a core).
	return mongodb.OneUpdate{Filter: bson.M{"_id": d.Key}, Update: update, Upsert: true}
}

// suspiciousUnits applies the thresholds to a count, with a packed lot's
// units (0: not a packed lot).
func suspiciousUnits(serial string, units, count int64) bool {
	l := Lot{Source: SourcePacking, Quantity: units}
	if units == 0 {
		l.Source = SourceHarvest
	}
	return suspicious(l, serial, count)
}
