package orders

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// Store persists orders, idempotency records, provider events and the
// outbox. It is the only file of the package that knows MongoDB.
type Store struct {
	db *mongodb.Store
}

// NewStore returns a store on db.
func NewStore(db *mongodb.Store) *Store { return &Store{db: db} }

// The lists pages and the API serve are kept in keyed lists
// (mongodb.List), newest first, changed in the Atomically of the write
// they follow: on the embedded store a filter on "channel" reads every
// order. An order is listed under its channel and under its channel and
// status: placing lists it under both, a change of status moves it from
// the old status's list to the new one's (so a status list is in the order
// orders reached that status, the last first), withdrawing it takes it out
// of both. The outbox is listed per channel. The sweeper's and the
// settlement's reads (pending orders past expiry, refunds due, orders paid
// in a month) still read the collection: they run in the background or
// once a month, not per page.
var (
	orderList = &mongodb.List{Name: "orders", Collection: "orders", NewestFirst: true, OrderField: "created_at",
		KeysOf: func(d bson.Raw) []string {
			channel, _ := d.Lookup("channel").StringValueOK()
			status, _ := d.Lookup("status").StringValueOK()
			return []string{mongodb.ListKey(channel), orderStatusKey(channel, status)}
		}}
	outboxList = &mongodb.List{Name: "outbox", Collection: "outbox", NewestFirst: true, OrderField: "created_at",
		KeysOf: func(d bson.Raw) []string {
			channel, _ := d.Lookup("channel").StringValueOK()
			return []string{mongodb.ListKey(channel)}
		}}
)

func orderStatusKey(channel, status string) string { return mongodb.ListKey(channel, "status", status) }

// Indexes are the indexes this package needs.
func Indexes() []mongodb.Index {
	return []mongodb.Index{
		{Collection: "orders", Keys: []string{"channel"}, List: orderList},
		{Collection: "orders", Keys: []string{"status"}},
		{Collection: "idempotency"},
		{Collection: "stripe_events"},
		{Collection: "order_refs"},
		{Collection: "outbox", Keys: []string{"channel"}, List: outboxList},
		{Collection: "advances", Keys: []string{"coop"}},
		{Collection: "repayments", Keys: []string{"coop"}},
		{Collection: "payouts", Keys: []string{"coop"}},
		{Collection: "statements"},
		{Collection: "unpaid_holds"},
		{Collection: "member_accounts"},
		{Collection: "member_payout_runs", Keys: []string{"coop"}},
	}
}

type idemRecord struct {
	Key       string    `bson:"_id"`
	BodyHash  string    `bson:"body_hash"`
	OrderID   string    `bson:"order_id"`
	Token     string    `bson:"token"`
	CreatedAt time.Time `bson:"created_at"`
}

var errNoRecord = errors.New("no record")

func (s *Store) idempotency(ctx context.Context, key string) (idemRecord, error) {
	var r idemRecord
	err := s.db.Collection("idempotency").FindOne(ctx, bson.M{"_id": "order|" + key}).Decode(&r)
	if mongodb.IsNotFound(err) {
		return r, errNoRecord
	}
	return r, err
}

func (s *Store) insertIdempotency(ctx context.Context, r idemRecord) error {
	r.Key = "order|" + r.Key
	_, err := s.db.Collection("idempotency").InsertOne(ctx, r)
	return err
}

func (s *Store) insertOrder(ctx context.Context, o Order) error {
	return s.db.Atomically(ctx, func(ctx context.Context) error {
		// The order (new, under the _id just minted) and its lists' heads
		// in one journal write.
		keys := []string{mongodb.ListKey(o.Channel), orderStatusKey(o.Channel, o.Status)}
		if err := s.db.Prepare(ctx, append(orderList.HeadDocs(keys...), mongodb.Doc{Coll: "orders", ID: o.ID, New: true})...); err != nil {
			return err
		}
		if _, err := s.db.Collection("orders").InsertOne(ctx, o); err != nil {
			return err
		}
		return s.db.ListAdd(ctx, *orderList, o.ID, keys...)
	})
}

func (s *Store) order(ctx context.Context, id string) (Order, error) {
	var o Order
	err := s.db.Collection("orders").FindOne(ctx, bson.M{"_id": id}).Decode(&o)
	if mongodb.IsNotFound(err) {
		return o, ErrOrderNotFound
	}
	return o, err
}

// saveOrder writes an order, guarded on the status it was read with
// (callers hold Atomically and read the order in it).
func (s *Store) saveOrder(ctx context.Context, o Order, before string) error {
	// The order and, when its status moves, the heads of both status
	// lists in one journal write.
	docs := []mongodb.Doc{{Coll: "orders", ID: o.ID}}
	if o.Status != before {
		docs = append(docs, orderList.HeadDocs(orderStatusKey(o.Channel, before), orderStatusKey(o.Channel, o.Status))...)
	}
	if err := s.db.Prepare(ctx, docs...); err != nil {
		return err
	}
	ok, err := s.db.Collection("orders").ReplaceByIDIf(ctx, o.ID, bson.M{"status": before}, o)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("orders: order changed while being updated")
	}
	if o.Status == before {
		return nil
	}
	if err := s.db.ListRemove(ctx, *orderList, o.ID, orderStatusKey(o.Channel, before)); err != nil {
		return err
	}
	return s.db.ListAdd(ctx, *orderList, o.ID, orderStatusKey(o.Channel, o.Status))
}

func (s *Store) setCheckout(ctx context.Context, id string, co Checkout, expiresAt time.Time) error {
	_, err := s.db.Collection("orders").UpdateOne(ctx, bson.M{"_id": id},
		bson.M{"$set": bson.M{"session_id": co.SessionID, "checkout_url": co.URL, "expires_at": expiresAt}})
	return err
}

// deleteOrder removes an order that never reached its payment page, with
// the idempotency record that points at it (callers hold Atomically).
func (s *Store) deleteOrder(ctx context.Context, id, idemKey string) error {
	o, err := s.order(ctx, id)
	if err != nil {
		return err
	}
	if _, err := s.db.Collection("orders").DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return err
	}
	if err := s.db.ListRemove(ctx, *orderList, id, mongodb.ListKey(o.Channel), orderStatusKey(o.Channel, o.Status)); err != nil {
		return err
	}
	if idemKey == "" {
		return nil
	}
	_, err = s.db.Collection("idempotency").DeleteOne(ctx, bson.M{"_id": "order|" + idemKey})
	return err
}

// orders reads a page of a channel's orders, newest first, or of those in
// one status, the last to reach it first.
func (s *Store) orders(ctx context.Context, channel, status string, p mongodb.Page) ([]Order, error) {
	key := mongodb.ListKey(channel)
	if status != "" {
		key = orderStatusKey(channel, status)
	}
	return mongodb.ListPage[Order](ctx, s.db, *orderList, key, p)
}

// pendingBefore lists unpaid orders whose reservation ran out, and orders
// with a refund still due.
func (s *Store) pendingBefore(ctx context.Context, t time.Time) ([]string, error) {
	cur, err := s.db.Collection("orders").Find(ctx, bson.M{"status": "pending_payment", "expires_at": bson.M{"$lt": t}},
		options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, nil
}

func (s *Store) refundsDue(ctx context.Context) ([]Order, error) {
	var out []Order
	cur, err := s.db.Collection("orders").Find(ctx, bson.M{"refund_due": true})
	if err != nil {
		return nil, err
	}
	return out, cur.All(ctx, &out)
}

func (s *Store) eventSeen(ctx context.Context, id string) (bool, error) {
	err := s.db.Collection("stripe_events").FindOne(ctx, bson.M{"_id": id}).Err()
	if mongodb.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) insertEvent(ctx context.Context, ev Event) error {
	_, err := s.db.Collection("stripe_events").InsertOne(ctx, bson.M{"_id": ev.ID, "type": ev.Type, "order": ev.OrderID, "created": ev.Created})
	if mongodb.IsDuplicateKey(err) {
		return ErrDuplicateEvent
	}
	return err
}

// holdList reads the pending orders listed for a customer key.
func (s *Store) holdList(ctx context.Context, id string) ([]string, error) {
	var doc struct {
		Orders []string `bson:"orders"`
	}
	err := s.db.Collection("unpaid_holds").FindOne(ctx, bson.M{"_id": id}).Decode(&doc)
	if mongodb.IsNotFound(err) {
		return nil, nil
	}
	return doc.Orders, err
}

// saveHolds lists a new order under each of its customer's keys, with the
// orders still pending (callers hold Atomically).
func (s *Store) saveHolds(ctx context.Context, keys []holdKey, orderID string) error {
	for _, k := range keys {
		ids := append(append([]string{}, k.pending...), orderID)
		if _, err := s.db.Collection("unpaid_holds").ReplaceOne(ctx, bson.M{"_id": k.id},
			bson.M{"_id": k.id, "orders": ids}, options.Replace().SetUpsert(true)); err != nil {
			return err
		}
	}
	return nil
}

// deleteRecordsBefore deletes event IDs and idempotency records older than t.
func (s *Store) deleteRecordsBefore(ctx context.Context, t time.Time) error {
	if _, err := s.db.Collection("stripe_events").DeleteMany(ctx, bson.M{"created": bson.M{"$lt": t}}); err != nil {
		return err
	}
	_, err := s.db.Collection("idempotency").DeleteMany(ctx, bson.M{"_id": bson.M{"$regex": "^order\\|"}, "created_at": bson.M{"$lt": t}})
	return err
}

// preparePaid journals at once what marking the pending order o paid by ev
// writes beside its stock: the order with the heads of the pending and
// paid lists, the payment's reference, the confirmation email (new, under
// emailID) with its outbox list's head, and the event's record.
func (s *Store) preparePaid(ctx context.Context, o Order, ev Event, emailID string) error {
	docs := []mongodb.Doc{{Coll: "orders", ID: o.ID}, {Coll: "outbox", ID: emailID, New: true}, {Coll: "stripe_events", ID: ev.ID}}
	docs = append(docs, orderList.HeadDocs(orderStatusKey(o.Channel, o.Status), orderStatusKey(o.Channel, StatusPaid))...)
	docs = append(docs, outboxList.HeadDocs(mongodb.ListKey(o.Channel))...)
	if ev.PaymentIntent != "" {
		docs = append(docs, mongodb.Doc{Coll: "order_refs", ID: ev.PaymentIntent})
	}
	return s.db.Prepare(ctx, docs...)
}

func (s *Store) linkPaymentIntent(ctx context.Context, pi, order string) error {
	_, err := s.db.Collection("order_refs").ReplaceOne(ctx, bson.M{"_id": pi}, bson.M{"_id": pi, "order": order}, options.Replace().SetUpsert(true))
	return err
}

func (s *Store) orderByPaymentIntent(ctx context.Context, pi string) (string, error) {
	var doc struct {
		Order string `bson:"order"`
	}
	err := s.db.Collection("order_refs").FindOne(ctx, bson.M{"_id": pi}).Decode(&doc)
	return doc.Order, err
}

func (s *Store) insertOutbox(ctx context.Context, e Email) error {
	return s.db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.db.Collection("outbox").InsertOne(ctx, e); err != nil {
			return err
		}
		return s.db.ListAdd(ctx, *outboxList, e.ID, mongodb.ListKey(e.Channel))
	})
}

func (s *Store) outbox(ctx context.Context, channel string, p mongodb.Page) ([]Email, error) {
	return mongodb.ListPage[Email](ctx, s.db, *outboxList, mongodb.ListKey(channel), p)
}

// paidBetween lists the orders paid in [from, to), refunded since or not
// (a refund is an entry of its own, dated when it happened).
func (s *Store) paidBetween(ctx context.Context, from, to time.Time) ([]Order, error) {
	cur, err := s.db.Collection("orders").Find(ctx, bson.M{"paid_at": bson.M{"$gte": from, "$lt": to}})
	if err != nil {
		return nil, err
	}
	var out []Order
	return out, cur.All(ctx, &out)
}

// refundedBetween lists the paid orders refunded in [from, to).
func (s *Store) refundedBetween(ctx context.Context, from, to time.Time) ([]Order, error) {
	cur, err := s.db.Collection("orders").Find(ctx, bson.M{"refunded_at": bson.M{"$gte": from, "$lt": to}})
	if err != nil {
		return nil, err
	}
	var all []Order
	if err := cur.All(ctx, &all); err != nil {
		return nil, err
	}
	out := all[:0]
	for _, o := range all {
		if !o.PaidAt.IsZero() {
			out = append(out, o)
		}
	}
	return out, nil
}

// closedStatement reads a closed month's record.
func (s *Store) closedStatement(ctx context.Context, coop, month string) (Statement, bool, error) {
	var doc struct {
		Statement Statement `bson:"statement"`
	}
	err := s.db.Collection("statements").FindOne(ctx, bson.M{"_id": coop + "|" + month}).Decode(&doc)
	if mongodb.IsNotFound(err) {
		return Statement{}, false, nil
	}
	if err != nil {
		return Statement{}, false, err
	}
	if doc.Statement.Lines == nil {
		doc.Statement.Lines = []StatementLine{}
	}
	if doc.Statement.Totals == nil {
		doc.Statement.Totals = []StatementTotals{}
	}
	return doc.Statement, true, nil
}

func (s *Store) insertClosedStatement(ctx context.Context, st Statement) error {
	_, err := s.db.Collection("statements").InsertOne(ctx, bson.M{"_id": st.Cooperative + "|" + st.Month, "statement": st})
	if mongodb.IsDuplicateKey(err) {
		return problem.New(problem.Conflict, "this month is already closed")
	}
	return err
}

func (s *Store) advancesOf(ctx context.Context, coop string) ([]Advance, error) {
	var out []Advance
	cur, err := s.db.Collection("advances").Find(ctx, bson.M{"coop": coop})
	if err != nil {
		return nil, err
	}
	return out, cur.All(ctx, &out)
}

func (s *Store) insertAdvance(ctx context.Context, a Advance) error {
	_, err := s.db.Collection("advances").InsertOne(ctx, a)
	return err
}

func (s *Store) repaymentsOf(ctx context.Context, coop string) ([]Repayment, error) {
	var out []Repayment
	cur, err := s.db.Collection("repayments").Find(ctx, bson.M{"coop": coop})
	if err != nil {
		return nil, err
	}
	return out, cur.All(ctx, &out)
}

func (s *Store) insertRepayment(ctx context.Context, r Repayment) error {
	_, err := s.db.Collection("repayments").InsertOne(ctx, r)
	if mongodb.IsDuplicateKey(err) {
		return problem.New(problem.Conflict, "this month is already closed")
	}
	return err
}

func (s *Store) payoutsOf(ctx context.Context, coop, month string) ([]Payout, error) {
	var out []Payout
	cur, err := s.db.Collection("payouts").Find(ctx, bson.M{"coop": coop, "month": month})
	if err != nil {
		return nil, err
	}
	return out, cur.All(ctx, &out)
}

func (s *Store) insertPayout(ctx context.Context, p Payout) error {
	_, err := s.db.Collection("payouts").InsertOne(ctx, p)
	return err
}

func (s *Store) allOrders(ctx context.Context) ([]Order, error) {
	cur, err := s.db.Collection("orders").Find(ctx, bson.M{})
	if err != nil {
		return nil, err
	}
	var out []Order
	return out, cur.All(ctx, &out)
}

// memberTerms reads a cooperative's terms of members' pay (none recorded:
// no retention, no rates, the cooperative's currency).
func (s *Store) memberTerms(ctx context.Context, c traceability.Cooperative) (MemberTerms, error) {
	var t MemberTerms
	err := s.db.Collection("member_accounts").FindOne(ctx, bson.M{"_id": c.Code}).Decode(&t)
	if err != nil && !mongodb.IsNotFound(err) {
		return MemberTerms{}, err
	}
	t.Cooperative = c.Code
	if t.Currency == "" {
		t.Currency = c.Currency()
	}
	if t.Retention == nil {
		t.Retention = []RetentionRule{}
	}
	if t.Rates == nil {
		t.Rates = []ExchangeRate{}
	}
	return t, nil
}

// saveMemberTerms writes a cooperative's terms, guarded on the version they
// were read with (callers hold Atomically and read them in it).
func (s *Store) saveMemberTerms(ctx context.Context, t *MemberTerms) error {
	before := t.Version
	t.Version++
	conflict := problem.New(problem.Conflict, "the cooperative's terms changed while they were being updated; try again")
	c := s.db.Collection("member_accounts")
	if before == 0 {
		// Never saved: a payout run's lock (lockMemberAccounts) creates
		// the document at version 1, so 0 means there is none.
		if _, err := c.InsertOne(ctx, t); err != nil {
			if mongodb.IsDuplicateKey(err) {
				return conflict
			}
			return err
		}
		return nil
	}
	ok, err := c.ReplaceByIDIf(ctx, t.Cooperative, bson.M{"version": before}, t)
	if err == nil && !ok {
		return conflict
	}
	return err
}

// lockMemberAccounts makes concurrent payout runs of a cooperative
// conflict: on a replica set two transactions that write the same document
// cannot both commit (the loser is retried and then sees the winner's
// run); on the embedded store Atomically's lock serialises them already.
func (s *Store) lockMemberAccounts(ctx context.Context, coop string) error {
	_, err := s.db.Collection("member_accounts").UpdateOne(ctx, bson.M{"_id": coop}, bson.M{"$inc": bson.M{"version": 1}},
		options.UpdateOne().SetUpsert(true))
	return err
}

// memberPayoutRuns lists a cooperative's payout runs, oldest first.
func (s *Store) memberPayoutRuns(ctx context.Context, coop string) ([]MemberPayoutRun, error) {
	filter := bson.M{}
	if coop != "" {
		filter["coop"] = coop
	}
	cur, err := s.db.Collection("member_payout_runs").Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var out []MemberPayoutRun
	return out, cur.All(ctx, &out)
}

func (s *Store) memberPayoutRun(ctx context.Context, id string) (MemberPayoutRun, bool, error) {
	var r MemberPayoutRun
	err := s.db.Collection("member_payout_runs").FindOne(ctx, bson.M{"_id": id}).Decode(&r)
	if mongodb.IsNotFound(err) {
		return r, false, nil
	}
	return r, err == nil, err
}

func (s *Store) insertMemberPayoutRun(ctx context.Context, r MemberPayoutRun) error {
	_, err := s.db.Collection("member_payout_runs").InsertOne(ctx, r)
	if mongodb.IsDuplicateKey(err) {
		return problem.New(problem.Conflict, "this payout run is recorded already")
	}
	return err
}

// allAdvances and allRepayments list the revolving fund's advances to every
// cooperative and what closed months repaid (the network's impact report).
func (s *Store) allAdvances(ctx context.Context) ([]Advance, error) {
	var out []Advance
	cur, err := s.db.Collection("advances").Find(ctx, bson.M{})
	if err != nil {
		return nil, err
	}
	return out, cur.All(ctx, &out)
}

func (s *Store) allRepayments(ctx context.Context) ([]Repayment, error) {
	var out []Repayment
	cur, err := s.db.Collection("repayments").Find(ctx, bson.M{})
	if err != nil {
		return nil, err
	}
	return out, cur.All(ctx, &out)
}
