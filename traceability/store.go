package traceability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Store persists the traceability records. It is the only file of the
// package that knows about MongoDB.
type Store struct {
	db *mongodb.Store

	mu          sync.RWMutex
	lotWatch    []func(code string)
	certWatch   []func(id string)
	parcelWatch []func(id string)
}

// NewStore returns a store on db.
func NewStore(db *mongodb.Store) *Store { return &Store{db: db} }

// watchLots registers fn to be told the code of every lot this process
// changes, right after the change is written (caches of lot pages).
func (s *Store) watchLots(fn func(code string)) {
	s.mu.Lock()
	s.lotWatch = append(s.lotWatch, fn)
	s.mu.Unlock()
}

func (s *Store) lotChanged(code string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, fn := range s.lotWatch {
		fn(code)
	}
}

// watchCertifications registers fn to be told the ID of every certificate
// whose status this process changes, once the change is committed.
func (s *Store) watchCertifications(fn func(id string)) {
	s.mu.Lock()
	s.certWatch = append(s.certWatch, fn)
	s.mu.Unlock()
}

// watchParcels registers fn to be told the ID of every parcel whose
// location this process changes (the trace record shows the outline).
func (s *Store) watchParcels(fn func(id string)) {
	s.mu.Lock()
	s.parcelWatch = append(s.parcelWatch, fn)
	s.mu.Unlock()
}

func (s *Store) parcelChanged(id string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, fn := range s.parcelWatch {
		fn(id)
	}
}

func (s *Store) certificationChanged(id string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, fn := range s.certWatch {
		fn(id)
	}
}

// The lists pages and the API serve, kept per cooperative in documents
// read by _id (mongodb.List), because on the embedded store a filter on
// "coop" reads the whole collection: at the load scale (60,000 harvests) a
// page of one cooperative's harvests took as long as reading them all.
// Each insert lists its record in the same Atomically. Orders:
//   - members and parcels: the order they were registered, first first (a
//     register reads like the ledger it replaces: member no. 1 on top);
//   - harvests and lots: the newest recorded first (what a manager checks).
//
// Reads of a whole cooperative (imports, evidence export, EPCIS, links)
// ask for more than mongodb.MaxPageSize at once and keep one pass over the
// collection: one lookup per record costs more when the cooperative holds
// a large share of the collection. The flagged lots an auditor sees are a
// bounded scan of the cooperative's lot list (ListFilter): its cost grows
// with the cooperative's lots, not with the collection.
var (
	memberList  = coopList("members", false)
	parcelList  = coopList("parcels", false)
	harvestList = coopList("harvests", true)
	lotList     = coopList("lots", true)
)

// coopList is the list of a collection's records per cooperative ("coop").
func coopList(coll string, newestFirst bool) *mongodb.List {
	return &mongodb.List{Name: coll, Collection: coll, NewestFirst: newestFirst, OrderField: "created_at",
		KeysOf: func(d bson.Raw) []string {
			coop, _ := d.Lookup("coop").StringValueOK()
			return []string{coop}
		}}
}

// bulk reports a read of a whole cooperative rather than a page.
func bulk(p mongodb.Page) bool { return p.Limit <= 0 || p.Limit > mongodb.MaxPageSize }

// Indexes are the indexes this package needs.
func Indexes() []mongodb.Index {
	return []mongodb.Index{
		{Collection: "cooperatives"},
		{Collection: "members", Keys: []string{"coop"}, List: memberList},
		{Collection: "parcels", Keys: []string{"coop"}, List: parcelList},
		{Collection: "harvests", Keys: []string{"coop"}, List: harvestList},
		{Collection: "lots", Keys: []string{"coop"}, List: lotList},
		{Collection: "certifications", Keys: []string{"holder"}},
		{Collection: "settings"},
		{Collection: "scans", Keys: []string{"coop"}},
		{Collection: "scan_batches"},
		{Collection: "blobs"},
		{Collection: "blob_chunks"},
		{Collection: "evidence_jobs", Keys: []string{"coop"}},
		{Collection: "consignments", Keys: []string{"coop"}},
	}
}

func (s *Store) insertCooperative(ctx context.Context, c Cooperative) error {
	_, err := s.db.Collection("cooperatives").InsertOne(ctx, c)
	if mongodb.IsDuplicateKey(err) {
		return ErrCooperativeExists
	}
	return err
}

func (s *Store) cooperative(ctx context.Context, code string) (Cooperative, error) {
	var c Cooperative
	err := s.db.Collection("cooperatives").FindOne(ctx, bson.M{"_id": code}).Decode(&c)
	if mongodb.IsNotFound(err) {
		return c, ErrCooperativeNotFound
	}
	return c, err
}

func (s *Store) cooperatives(ctx context.Context, only []string, p mongodb.Page) ([]Cooperative, error) {
	filter := bson.M{}
	if only != nil {
		filter["_id"] = bson.M{"$in": only}
	}
	return mongodb.FindPage[Cooperative](ctx, s.db.Collection("cooperatives"), filter, byID, p)
}

func (s *Store) insertMember(ctx context.Context, m Member) error {
	return s.db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.db.Collection("members").InsertOne(ctx, m); err != nil {
			return err
		}
		return s.db.ListAdd(ctx, *memberList, m.ID, m.Cooperative)
	})
}

func (s *Store) member(ctx context.Context, id string) (Member, error) {
	var m Member
	err := s.db.Collection("members").FindOne(ctx, bson.M{"_id": id}).Decode(&m)
	if mongodb.IsNotFound(err) {
		return m, ErrMemberNotFound
	}
	return m, err
}

func (s *Store) members(ctx context.Context, coop string, p mongodb.Page) ([]Member, error) {
	if bulk(p) {
		return mongodb.FindPage[Member](ctx, s.db.Collection("members"), bson.M{"coop": coop}, byCreation, p)
	}
	return mongodb.ListPage[Member](ctx, s.db, *memberList, coop, p)
}

// byCreation is the order of whole-cooperative reads: as the lists, first
// recorded first.
var byCreation = bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}

// byID is the order of lists that have no better one.
var byID = bson.D{{Key: "_id", Value: 1}}

func (s *Store) insertParcel(ctx context.Context, p Parcel) error {
	return s.db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.db.Collection("parcels").InsertOne(ctx, p); err != nil {
			return err
		}
		return s.db.ListAdd(ctx, *parcelList, p.ID, p.Cooperative)
	})
}

func (s *Store) parcel(ctx context.Context, id string) (Parcel, error) {
	var p Parcel
	err := s.db.Collection("parcels").FindOne(ctx, bson.M{"_id": id}).Decode(&p)
	if mongodb.IsNotFound(err) {
		return p, ErrParcelNotFound
	}
	if err == nil {
		err = p.decodeLocation()
	}
	return p, err
}

// everyOutline reads every parcel's walked outline (nil for a point) in
// one pass, until each returns false.
func (s *Store) everyOutline(ctx context.Context, each func(id string, outline *Geometry) bool) error {
	return eachDoc(ctx, s.db.Collection("parcels"), func(p Parcel) (bool, error) {
		if err := p.decodeLocation(); err != nil {
			return false, fmt.Errorf("parcel %s: %w", p.ID, err)
		}
		return each(p.ID, p.outline()), nil
	}, options.Find().SetProjection(bson.M{"location": 1}))
}

// outline is the parcel's walked outline, nil for a point.
func (p *Parcel) outline() *Geometry {
	if p.Location.Type == "Polygon" || p.Location.Type == "MultiPolygon" {
		return &p.Location
	}
	return nil
}

// eachDoc decodes each document of c that opts select into a T, in turn,
// streaming, until fn returns false or an error.
func eachDoc[T any](ctx context.Context, c *mongodb.Collection, fn func(T) (bool, error), opts ...options.Lister[options.FindOptions]) error {
	cur, err := c.Find(ctx, bson.M{}, opts...)
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d T
		if err := cur.Decode(&d); err != nil {
			return err
		}
		if more, err := fn(d); err != nil || !more {
			return err
		}
	}
	return cur.Err()
}

func (p *Parcel) decodeLocation() error {
	if p.LocationRaw == "" {
		return nil
	}
	return json.Unmarshal([]byte(p.LocationRaw), &p.Location)
}

func (s *Store) parcels(ctx context.Context, coop string, pg mongodb.Page) ([]Parcel, error) {
	var out []Parcel
	var err error
	if bulk(pg) {
		out, err = mongodb.FindPage[Parcel](ctx, s.db.Collection("parcels"), bson.M{"coop": coop}, byCreation, pg)
	} else {
		out, err = mongodb.ListPage[Parcel](ctx, s.db, *parcelList, coop, pg)
	}
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := out[i].decodeLocation(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// addSeasonTotal adds a harvest to its parcel's season total. Callers hold
// Atomically (the total is read first).
func (s *Store) addSeasonTotal(ctx context.Context, parcel, key string, amount int64) error {
	_, err := s.db.Collection("parcels").UpdateOne(ctx, bson.M{"_id": parcel},
		bson.M{"$inc": bson.M{"season_totals." + key: amount}})
	return err
}

func (s *Store) insertHarvest(ctx context.Context, h Harvest) error {
	return s.db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.db.Collection("harvests").InsertOne(ctx, h); err != nil {
			return err
		}
		return s.db.ListAdd(ctx, *harvestList, h.ID, h.Cooperative)
	})
}

func (s *Store) harvest(ctx context.Context, id string) (Harvest, error) {
	var h Harvest
	err := s.db.Collection("harvests").FindOne(ctx, bson.M{"_id": id}).Decode(&h)
	if mongodb.IsNotFound(err) {
		return h, ErrHarvestNotFound
	}
	return h, err
}

// harvests reads a page of a cooperative's harvests, newest first.
func (s *Store) harvests(ctx context.Context, coop string, pg mongodb.Page) ([]Harvest, error) {
	if bulk(pg) {
		return mongodb.FindPage[Harvest](ctx, s.db.Collection("harvests"), bson.M{"coop": coop}, byID, pg)
	}
	return mongodb.ListPage[Harvest](ctx, s.db, *harvestList, coop, pg)
}

// assignHarvests marks harvests as used by a lot. Callers hold Atomically
// and have checked that none is in a lot yet.
func (s *Store) assignHarvests(ctx context.Context, ids []string, lot string) error {
	for _, id := range ids {
		ok, err := s.db.Collection("harvests").UpdateByIDIf(ctx, id,
			bson.M{"lot": bson.M{"$exists": false}}, bson.M{"$set": bson.M{"lot": lot}})
		if err != nil {
			return err
		}
		if !ok {
			return errLotChanged
		}
	}
	return nil
}

// insertLot gives the lot a fresh code, seals its creation event and stores
// it, drawing a new code in the (rare) case of a collision.
func (s *Store) insertLot(ctx context.Context, l *Lot) error {
	for attempt := 0; ; attempt++ {
		code, err := NewLotCode(l.ProductKind)
		if err != nil {
			return err
		}
		l.Code = code
		creationEvent(l)
		err = s.db.Atomically(ctx, func(ctx context.Context) error {
			if _, err := s.db.Collection("lots").InsertOne(ctx, l); err != nil {
				return err
			}
			return s.db.ListAdd(ctx, *lotList, l.Code, l.Cooperative)
		})
		if err == nil || !mongodb.IsDuplicateKey(err) || attempt == 4 {
			return err
		}
	}
}

// lot reads a lot with its whole history.
func (s *Store) lot(ctx context.Context, code string) (Lot, error) {
	l, err := s.lotHead(ctx, code)
	if err != nil {
		return l, err
	}
	return l, s.unseal(ctx, &l)
}

// lotHead reads a lot's document alone: its counters, head hash and the
// events after Sealed, which is all appending an event needs.
func (s *Store) lotHead(ctx context.Context, code string) (Lot, error) {
	var l Lot
	err := s.db.Collection("lots").FindOne(ctx, bson.M{"_id": code}).Decode(&l)
	if mongodb.IsNotFound(err) {
		return l, ErrLotNotFound
	}
	return l, err
}

// A lot's history is stored in two parts, so that appending an event costs
// the same on the thousandth sale as on the first: the lot's document keeps
// its counters, head hash and the events after Sealed (at most about
// eventBlock), and every full block of eventBlock older events is sealed
// once into a document of its own in lot_events, "<code>|<block>", never
// rewritten. Reading the history is one lookup per block; a lot with fewer
// than eventBlock events is read in one. Documents written before blocks
// existed hold every event and are sealed at their next append.
const eventBlock = 32

type eventBlockDoc struct {
	ID     string  `bson:"_id"`
	Lot    string  `bson:"lot"`
	Events []Event `bson:"events"`
}

func eventBlockID(code string, n int64) string { return fmt.Sprintf("%s|%06d", code, n) }

// unseal puts the sealed blocks of l's history before its document's events.
func (s *Store) unseal(ctx context.Context, l *Lot) error {
	if l.Sealed == 0 {
		return nil
	}
	events := make([]Event, 0, int(l.Sealed)+len(l.Events))
	for n := int64(0); n*eventBlock < l.Sealed; n++ {
		var b eventBlockDoc
		if err := s.db.Collection("lot_events").FindOne(ctx, bson.M{"_id": eventBlockID(l.Code, n)}).Decode(&b); err != nil {
			return fmt.Errorf("lot %s: events block %d: %w", l.Code, n, err)
		}
		events = append(events, b.Events...)
	}
	l.Events = append(events, l.Events...)
	return nil
}

// seal keeps at most eventBlock events in the lot's document: every full
// block of older events is written to lot_events first (a replace of a
// block whose content the events fix, so a retry or a crash between the
// two writes leaves nothing wrong: an unreferenced block is ignored and
// rewritten), and l keeps the rest. A document read without its whole
// unsealed tail is left as it is. Callers hold Atomically like every
// guarded lot update.
func (s *Store) seal(ctx context.Context, l *Lot) error {
	var tail []Event
	for _, ev := range l.Events {
		if ev.Seq > l.Sealed {
			tail = append(tail, ev)
		}
	}
	if len(tail) <= eventBlock || int64(len(tail)) != l.Seq-l.Sealed {
		return nil
	}
	for len(tail) > eventBlock {
		b := eventBlockDoc{ID: eventBlockID(l.Code, l.Sealed/eventBlock), Lot: l.Code, Events: tail[:eventBlock]}
		if _, err := s.db.Collection("lot_events").ReplaceOne(ctx, bson.M{"_id": b.ID}, b, options.Replace().SetUpsert(true)); err != nil {
			return err
		}
		tail, l.Sealed = tail[eventBlock:], l.Sealed+eventBlock
	}
	l.Events = tail
	return nil
}

// lots reads a page of a cooperative's lots, newest first; flaggedOnly: a
// bounded scan of its list for the lots that carry a flag.
func (s *Store) lots(ctx context.Context, coop string, flaggedOnly bool, pg mongodb.Page) ([]Lot, error) {
	var out []Lot
	var err error
	switch {
	case flaggedOnly:
		out, err = mongodb.ListFilter(ctx, s.db, *lotList, coop, func(l Lot) bool { return len(l.Flags) > 0 }, pg)
	case !bulk(pg):
		out, err = mongodb.ListPage[Lot](ctx, s.db, *lotList, coop, pg)
	default:
		out, err = mongodb.FindPage[Lot](ctx, s.db.Collection("lots"), bson.M{"coop": coop},
			bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: 1}}, pg)
	}
	for i := range out {
		if err == nil {
			err = s.unseal(ctx, &out[i])
		}
	}
	return out, err
}

// eachLot calls fn for every lot, in code order, streaming.
func (s *Store) eachLot(ctx context.Context, fn func(Lot) error) error {
	return eachDoc(ctx, s.db.Collection("lots"), func(l Lot) (bool, error) {
		if err := s.unseal(ctx, &l); err != nil {
			return false, err
		}
		return true, fn(l)
	}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
}

// consume takes amount out of a lot and appends its event, guarded on the
// sequence the caller read and on the available quantity, so that even
// without the caller's lock nothing could be consumed twice.
func (s *Store) consume(ctx context.Context, before Lot, amount int64, e Event, outputs []EventRef) error {
	if err := s.updateLotEvent(ctx, before, amount, e, bson.M{
		"$inc":  bson.M{"available": -amount},
		"$push": bson.M{"events": e, "outputs": bson.M{"$each": outputs}},
		"$set":  bson.M{"seq": e.Seq, "last_hash": e.Hash},
	}); err != nil {
		return err
	}
	s.lotChanged(before.Code)
	return nil
}

// updateLotEvent applies update, which appends e to the lot read as
// before, guarded like replaceLotGuarded: the lot's document as stored now
// (read by _id: inside Atomically the store usually answers it from the
// change's own reads) is changed in Go (applyLotUpdate), a full block of
// older events sealed on the way (seal), and written whole, packed
// (lotcodec.go). The caller's before need not hold every line of the lot.
func (s *Store) updateLotEvent(ctx context.Context, before Lot, minAvailable int64, e Event, update bson.M) error {
	cur, err := s.lotHead(ctx, before.Code)
	if errors.Is(err, ErrLotNotFound) {
		return errLotChanged
	}
	if err != nil {
		return err
	}
	if cur.Seq != before.Seq || (minAvailable > 0 && cur.Available < minAvailable) {
		return errLotChanged
	}
	next, err := applyLotUpdate(cur, update)
	if err != nil {
		return err
	}
	if err := s.seal(ctx, &next); err != nil {
		return err
	}
	return s.replaceLotGuarded(ctx, before.Code, before.Seq, minAvailable, next)
}

// replaceLotGuarded replaces the lot code with next if its sequence is
// still seq and (minAvailable > 0) at least minAvailable is available;
// else errLotChanged. The guard is checked where each backend checks it
// best (mongodb.Collection.ReplaceByIDIf).
func (s *Store) replaceLotGuarded(ctx context.Context, code string, seq, minAvailable int64, next Lot) error {
	guard := bson.M{"seq": seq}
	if minAvailable > 0 {
		guard["available"] = bson.M{"$gte": minAvailable}
	}
	ok, err := s.db.Collection("lots").ReplaceByIDIf(ctx, code, guard, next)
	if err != nil {
		return err
	}
	if !ok {
		return errLotChanged
	}
	return nil
}

// appendLotEvent appends an event that moves the available quantity by
// delta (negative to take out), guarded like consume.
func (s *Store) appendLotEvent(ctx context.Context, before Lot, delta int64, e Event) error {
	if err := s.updateLotEvent(ctx, before, max(-delta, 0), e, bson.M{
		"$inc":  bson.M{"available": delta},
		"$push": bson.M{"events": e},
		"$set":  bson.M{"seq": e.Seq, "last_hash": e.Hash},
	}); err != nil {
		return err
	}
	s.lotChanged(before.Code)
	return nil
}

// correctLot appends a corrected event that moves the lot's corrections and
// available quantity by delta, with extra fields to set (a harvest
// correction's origin line and flags), guarded like consume.
func (s *Store) correctLot(ctx context.Context, before Lot, delta int64, e Event, set map[string]any) error {
	fields := bson.M{"seq": e.Seq, "last_hash": e.Hash}
	for k, v := range set {
		fields[k] = v
	}
	if err := s.updateLotEvent(ctx, before, max(-delta, 0), e, bson.M{
		"$inc":  bson.M{"available": delta, "corrections": delta},
		"$push": bson.M{"events": e},
		"$set":  fields,
	}); err != nil {
		return err
	}
	s.lotChanged(before.Code)
	return nil
}

// correctHarvest sets a harvest's corrected quantity and flag and appends the
// correction to its history. Callers hold Atomically.
func (s *Store) correctHarvest(ctx context.Context, id string, quantity int64, flag string, c HarvestCorrection) error {
	_, err := s.db.Collection("harvests").UpdateOne(ctx, bson.M{"_id": id}, bson.M{
		"$set":  bson.M{"quantity": quantity, "flag": flag},
		"$push": bson.M{"corrections": c},
	})
	return err
}

func (s *Store) justify(ctx context.Context, before Lot, flags []Flag, e Event) error {
	if err := s.updateLotEvent(ctx, before, 0, e, bson.M{
		"$set":  bson.M{"flags": flags, "seq": e.Seq, "last_hash": e.Hash},
		"$push": bson.M{"events": e},
	}); err != nil {
		return err
	}
	s.lotChanged(before.Code)
	return nil
}

func (s *Store) insertCertification(ctx context.Context, c Certification) error {
	_, err := s.db.Collection("certifications").InsertOne(ctx, c)
	return err
}

func (s *Store) certification(ctx context.Context, id string) (Certification, error) {
	var c Certification
	err := s.db.Collection("certifications").FindOne(ctx, bson.M{"_id": id}).Decode(&c)
	if mongodb.IsNotFound(err) {
		return c, ErrCertificationNotFound
	}
	return c, err
}

func (s *Store) certificationsOf(ctx context.Context, holder string) ([]Certification, error) {
	return mongodb.FindPage[Certification](ctx, s.db.Collection("certifications"), bson.M{"holder": holder}, byID, mongodb.Page{Limit: 1000})
}

func (s *Store) setCertificationStatus(ctx context.Context, id string, ch StatusChange) error {
	_, err := s.db.Collection("certifications").UpdateOne(ctx, bson.M{"_id": id},
		bson.M{"$set": bson.M{"status": ch.Status}, "$push": bson.M{"history": ch}})
	return err
}

// qrKey returns the stored QR signing key, creating it at first use. The
// insert is guarded by the _id, so two instances starting together agree.
func (s *Store) qrKey(ctx context.Context, fresh string) (string, error) {
	_, err := s.db.Collection("settings").InsertOne(ctx, bson.M{"_id": "qr_key", "value": fresh})
	if err != nil && !mongodb.IsDuplicateKey(err) {
		return "", err
	}
	var doc struct {
		Value string `bson:"value"`
	}
	err = s.db.Collection("settings").FindOne(ctx, bson.M{"_id": "qr_key"}).Decode(&doc)
	return doc.Value, err
}

func (s *Store) scanStat(ctx context.Context, key string) (ScanStat, error) {
	var st ScanStat
	err := s.db.Collection("scans").FindOne(ctx, bson.M{"_id": key}).Decode(&st)
	if mongodb.IsNotFound(err) {
		return ScanStat{Key: key}, nil
	}
	return st, err
}

// everyScanCount reads every code's stored count in one pass, until each
// returns false.
func (s *Store) everyScanCount(ctx context.Context, each func(key string, count int64) bool) error {
	return eachDoc(ctx, s.db.Collection("scans"), func(st ScanStat) (bool, error) {
		return each(st.Key, st.Count), nil
	}, options.Find().SetProjection(bson.M{"count": 1}))
}

func (s *Store) suspiciousScans(ctx context.Context, coop string) ([]ScanStat, error) {
	return mongodb.FindPage[ScanStat](ctx, s.db.Collection("scans"), bson.M{"coop": coop, "suspicious": true}, byID, mongodb.Page{Limit: 1000})
}

func (s *Store) allCertifications(ctx context.Context) ([]Certification, error) {
	return mongodb.FindPage[Certification](ctx, s.db.Collection("certifications"), bson.M{}, byID, mongodb.Page{Limit: 100_000})
}

// lockRegister makes concurrent changes to a cooperative's register of
// members and parcels conflict, so that a code checked free inside
// Atomically is still free when the record is inserted: on a replica set two
// transactions that write the same document cannot both commit (the loser
// is retried and then sees the other's record); on the embedded store
// Atomically's lock already serialises them. No index can say "unique
// within the cooperative when present", as most records have no code.
func (s *Store) lockRegister(ctx context.Context, coop string) error {
	_, err := s.db.Collection("cooperatives").UpdateOne(ctx, bson.M{"_id": coop}, bson.M{"$inc": bson.M{"register_version": 1}})
	return err
}

// completeMember fills in a member's code or commune, recorded without
// them, from an import. Callers hold Atomically and have read the member.
func (s *Store) completeMember(ctx context.Context, id, code, commune string) error {
	set := bson.M{}
	if code != "" {
		set["code"] = code
	}
	if commune != "" {
		set["commune"] = commune
	}
	_, err := s.db.Collection("members").UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": set})
	return err
}

// completeParcel fills in a parcel's code, or replaces its point by the
// outline walked since, from an import. Callers hold Atomically and have
// read the parcel.
func (s *Store) completeParcel(ctx context.Context, p Parcel) error {
	set := bson.M{}
	if p.Code != "" {
		set["code"] = p.Code
	}
	if p.LocationRaw != "" {
		set["location"], set["lon"], set["lat"] = p.LocationRaw, p.Lon, p.Lat
	}
	_, err := s.db.Collection("parcels").UpdateOne(ctx, bson.M{"_id": p.ID}, bson.M{"$set": set})
	if err == nil && p.LocationRaw != "" {
		s.parcelChanged(p.ID)
	}
	return err
}

// lotShares reads what dividing a lot among its members needs. The
// projection leaves out the events, flags and claims of a document written
// before its lines were packed (lotcodec.go); a packed one comes whole, its
// lines as one binary field that costs less to read than they did.
func (s *Store) lotShares(ctx context.Context, code string) (Lot, error) {
	var l Lot
	err := s.db.Collection("lots").FindOne(ctx, bson.M{"_id": code},
		options.FindOne().SetProjection(bson.M{"events": 0, "flags": 0, "claims": 0, "outputs": 0})).Decode(&l)
	if mongodb.IsNotFound(err) {
		return l, ErrLotNotFound
	}
	return l, err
}

// allMembers lists every member of a cooperative (or of every cooperative
// when coop is ""), by _id.
func (s *Store) allMembers(ctx context.Context, coop string) ([]Member, error) {
	filter := bson.M{}
	if coop != "" {
		filter["coop"] = coop
	}
	return mongodb.FindPage[Member](ctx, s.db.Collection("members"), filter, byID, mongodb.Page{})
}

// allHarvests lists every harvest of a cooperative (or of every cooperative
// when coop is ""), by _id.
func (s *Store) allHarvests(ctx context.Context, coop string) ([]Harvest, error) {
	filter := bson.M{}
	if coop != "" {
		filter["coop"] = coop
	}
	return mongodb.FindPage[Harvest](ctx, s.db.Collection("harvests"), filter, byID, mongodb.Page{})
}

// errBlobExists is putBlobInfo's answer for a blob stored before.
var errBlobExists = errors.New("blob exists")

func (s *Store) blobInfo(ctx context.Context, id string) (BlobInfo, error) {
	var b BlobInfo
	err := s.db.Collection("blobs").FindOne(ctx, bson.M{"_id": id}).Decode(&b)
	if mongodb.IsNotFound(err) {
		return b, ErrBlobNotFound
	}
	return b, err
}

func blobChunkID(id string, n int) string { return id + "#" + strconv.Itoa(n) }

// putBlobChunk stores chunk n of a blob. A chunk left by an interrupted
// write of the same content-addressed blob is the same bytes: replaced.
func (s *Store) putBlobChunk(ctx context.Context, id string, n int, data []byte) error {
	_, err := s.db.Collection("blob_chunks").ReplaceOne(ctx, bson.M{"_id": blobChunkID(id, n)},
		bson.M{"_id": blobChunkID(id, n), "data": data}, options.Replace().SetUpsert(true))
	return err
}

func (s *Store) blobChunk(ctx context.Context, id string, n int) ([]byte, error) {
	var doc struct {
		Data []byte `bson:"data"`
	}
	err := s.db.Collection("blob_chunks").FindOne(ctx, bson.M{"_id": blobChunkID(id, n)}).Decode(&doc)
	if mongodb.IsNotFound(err) {
		return nil, ErrBlobNotFound
	}
	return doc.Data, err
}

// putBlobInfo writes a blob's metadata, which makes it exist; its chunks
// are written before.
func (s *Store) putBlobInfo(ctx context.Context, b BlobInfo) error {
	_, err := s.db.Collection("blobs").InsertOne(ctx, b)
	if mongodb.IsDuplicateKey(err) {
		return errBlobExists
	}
	return err
}

// deleteBlob removes a blob: its metadata first, so a reader never sees a
// blob with chunks missing.
func (s *Store) deleteBlob(ctx context.Context, id string) error {
	info, err := s.blobInfo(ctx, id)
	if errors.Is(err, ErrBlobNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := s.db.Collection("blobs").DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return err
	}
	for n := range info.Chunks {
		if _, err := s.db.Collection("blob_chunks").DeleteOne(ctx, bson.M{"_id": blobChunkID(id, n)}); err != nil {
			return err
		}
	}
	return nil
}

// recordLabResult appends a lab result's tested event, the result and the
// lot's flags (with those the result raised) in one update, guarded like
// consume.
func (s *Store) recordLabResult(ctx context.Context, before Lot, e Event, r LabResult, flags []Flag) error {
	if err := s.updateLotEvent(ctx, before, 0, e, bson.M{
		"$push": bson.M{"events": e, "lab_results": r},
		"$set":  bson.M{"flags": flags, "seq": e.Seq, "last_hash": e.Hash},
	}); err != nil {
		return err
	}
	s.lotChanged(before.Code)
	return nil
}

// deleteBlobChunks removes the first n chunks of a blob whose write was
// abandoned (it has no metadata).
func (s *Store) deleteBlobChunks(ctx context.Context, id string, n int) {
	for i := range n {
		_, _ = s.db.Collection("blob_chunks").DeleteOne(ctx, bson.M{"_id": blobChunkID(id, i)})
	}
}

// countLots counts a cooperative's lots: the head of its list.
func (s *Store) countLots(ctx context.Context, coop string) (int64, error) {
	return s.db.ListCount(ctx, *lotList, coop)
}

func (s *Store) insertEvidenceJob(ctx context.Context, j EvidenceJob) error {
	_, err := s.db.Collection("evidence_jobs").InsertOne(ctx, j)
	return err
}

func (s *Store) evidenceJob(ctx context.Context, id string) (EvidenceJob, error) {
	var j EvidenceJob
	err := s.db.Collection("evidence_jobs").FindOne(ctx, bson.M{"_id": id}).Decode(&j)
	if mongodb.IsNotFound(err) {
		return j, ErrEvidenceJobNotFound
	}
	return j, err
}

func (s *Store) evidenceJobsOf(ctx context.Context, coop string) ([]EvidenceJob, error) {
	return mongodb.FindPage[EvidenceJob](ctx, s.db.Collection("evidence_jobs"), bson.M{"coop": coop}, byID, mongodb.Page{Limit: 10_000})
}

func (s *Store) updateEvidenceJob(ctx context.Context, id string, set map[string]any) error {
	_, err := s.db.Collection("evidence_jobs").UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": set})
	return err
}

func (s *Store) deleteEvidenceJob(ctx context.Context, id string) error {
	_, err := s.db.Collection("evidence_jobs").DeleteOne(ctx, bson.M{"_id": id})
	return err
}

func (s *Store) insertConsignment(ctx context.Context, c Consignment) error {
	_, err := s.db.Collection("consignments").InsertOne(ctx, c)
	return err
}

func (s *Store) consignment(ctx context.Context, id string) (Consignment, error) {
	var c Consignment
	err := s.db.Collection("consignments").FindOne(ctx, bson.M{"_id": id}).Decode(&c)
	if mongodb.IsNotFound(err) {
		return c, ErrConsignmentNotFound
	}
	return c, err
}

func (s *Store) consignmentsOf(ctx context.Context, coop string) ([]Consignment, error) {
	return mongodb.FindPage[Consignment](ctx, s.db.Collection("consignments"), bson.M{"coop": coop}, byID, mongodb.Page{Limit: 10_000})
}

// setConsignmentCOI records a consignment's certificate of inspection.
// Callers hold Atomically and have read it.
func (s *Store) setConsignmentCOI(ctx context.Context, c Consignment) error {
	_, err := s.db.Collection("consignments").UpdateOne(ctx, bson.M{"_id": c.ID}, bson.M{"$set": bson.M{
		"coi_number": c.COINumber, "coi_recorded_by": c.COIRecordedBy, "coi_recorded_at": c.COIRecordedAt, "status": c.Status}})
	return err
}

// setConsignmentReceipts records what arrived of a consignment. Callers
// hold Atomically and have read it.
func (s *Store) setConsignmentReceipts(ctx context.Context, c Consignment) error {
	_, err := s.db.Collection("consignments").UpdateOne(ctx, bson.M{"_id": c.ID}, bson.M{"$set": bson.M{
		"lines": c.Lines, "receipts": c.Receipts, "status": c.Status}})
	return err
}
