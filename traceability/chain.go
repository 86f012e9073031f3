package traceability

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Event types. Each change to a lot is exactly one immutable event; they map
// to EPCIS 2.0 business steps when exported.
const (
	EventCreated     = "created"     // origin lot made from harvests (EPCIS commissioning)
	EventConsumed    = "consumed"    // lot used as input of a transformation
	EventTransformed = "transformed" // lot created as output of a transformation
	EventPacked      = "packed"      // lot packed into units of a product
	EventShipped     = "shipped"     // units sent to a shop or the EU platform
	EventReceived    = "received"    // units received by a shop
	EventSold        = "sold"        // units sold at a till or online
	EventAdjusted    = "adjusted"    // quantity adjusted (count, loss); none is written today
	EventCorrected   = "corrected"   // a mistaken quantity corrected, with a reason (Quantity is the signed delta)
	EventFlagged     = "flagged"     // a plausibility rule flagged the lot
	EventJustified   = "justified"   // someone wrote the justification a flag needs
	// EventTested (quality.go): a laboratory result recorded on the lot.
)

// EventRef names a quantity of another lot that an event consumed or produced.
type EventRef struct {
	Lot      string `json:"lot" bson:"lot"`
	Quantity int64  `json:"quantity" bson:"quantity"`
	Unit     Unit   `json:"unit" bson:"unit"`
}

// Event is one link of a lot's hash chain. Events are never updated: a
// correction is a new event. Hash = sha256(PrevHash ‖ CanonicalEvent), so
// changing any field of any stored event, or deleting or reordering events,
// breaks the chain from that event on (VerifyChain).
type Event struct {
	Lot      string     `json:"lot" bson:"lot"`
	Seq      int64      `json:"seq" bson:"seq"` // 1, 2, 3… per lot
	Type     string     `json:"type" bson:"type"`
	At       time.Time  `json:"at" bson:"at"` // UTC, millisecond precision (see SealEvent)
	Actor    string     `json:"actor" bson:"actor"`
	Place    string     `json:"place" bson:"place"`
	Quantity int64      `json:"quantity" bson:"quantity"` // base units
	Unit     Unit       `json:"unit" bson:"unit"`
	Inputs   []EventRef `json:"inputs,omitempty" bson:"inputs,omitempty"`
	Outputs  []EventRef `json:"outputs,omitempty" bson:"outputs,omitempty"`
	Note     string     `json:"note,omitempty" bson:"note,omitempty"`
	PrevHash string     `json:"prev_hash" bson:"prev_hash"` // "" for the first event
	Hash     string     `json:"hash" bson:"hash"`           // lower-case hex SHA-256
}

// canonicalTimeLayout has a fixed millisecond fraction: BSON dates store
// milliseconds, so anything finer would not survive a round trip through the
// store and every chain would fail verification.
const canonicalTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// CanonicalEvent returns the bytes that are hashed for e: every field except
// Hash, as a compact JSON object written by hand so that the encoding can
// never drift with a library upgrade. The format (version 1) is, in order:
//
//	{"v":1,"lot":S,"seq":N,"type":S,"at":T,"actor":S,"place":S,
//	 "quantity":N,"unit":S,"inputs":[R…],"outputs":[R…],"note":S,"prev_hash":S}
//
// where R is {"lot":S,"quantity":N,"unit":S}, N a base-10 integer, T the time
// in UTC as 2006-01-02T15:04:05.000Z (truncated to the millisecond), and S a
// JSON string with only '"', '\\' and control characters escaped (\u00XX),
// other UTF-8 written as is and invalid UTF-8 bytes written as \ufffd
// (BSON strings are UTF-8, so stored events never contain any). Nil and empty
// input or output lists both encode as [], as the store does not keep the
// difference. Slices keep their order: reordering inputs is a change.
func CanonicalEvent(e Event) []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"v":1,"lot":`...)
	b = appendJSONString(b, e.Lot)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, e.Type)
	b = append(b, `,"at":"`...)
	b = e.At.UTC().Truncate(time.Millisecond).AppendFormat(b, canonicalTimeLayout)
	b = append(b, `","actor":`...)
	b = appendJSONString(b, e.Actor)
	b = append(b, `,"place":`...)
	b = appendJSONString(b, e.Place)
	b = append(b, `,"quantity":`...)
	b = strconv.AppendInt(b, e.Quantity, 10)
	b = append(b, `,"unit":`...)
	b = appendJSONString(b, string(e.Unit))
	b = append(b, `,"inputs":`...)
	b = appendEventRefs(b, e.Inputs)
	b = append(b, `,"outputs":`...)
	b = appendEventRefs(b, e.Outputs)
	b = append(b, `,"note":`...)
	b = appendJSONString(b, e.Note)
	b = append(b, `,"prev_hash":`...)
	b = appendJSONString(b, e.PrevHash)
	return append(b, '}')
}

func appendEventRefs(b []byte, refs []EventRef) []byte {
	b = append(b, '[')
	for i, r := range refs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"lot":`...)
		b = appendJSONString(b, r.Lot)
		b = append(b, `,"quantity":`...)
		b = strconv.AppendInt(b, r.Quantity, 10)
		b = append(b, `,"unit":`...)
		b = appendJSONString(b, string(r.Unit))
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return append(b, '"')
}

// ChainHash returns hex(sha256(prev ‖ CanonicalEvent(e))), prev being the
// previous event's hash as its 64 hex characters ("" for the first event).
// The concatenation is unambiguous: hex digits never contain the '{' that
// starts the canonical event.
func ChainHash(prev string, e Event) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write(CanonicalEvent(e))
	return hex.EncodeToString(h.Sum(nil))
}

// SealEvent links e after prev (nil for a lot's first event): it sets Seq,
// PrevHash and Hash, and rounds At to the millisecond in UTC, which is what
// the store will give back. Fields other than these are taken as given; the
// caller is responsible for e.Lot matching prev.Lot.
func SealEvent(prev *Event, e Event) Event {
	e.At = e.At.UTC().Truncate(time.Millisecond)
	e.Seq, e.PrevHash = 1, ""
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = ChainHash(e.PrevHash, e)
	return e
}

// ErrBrokenChain is wrapped by every error VerifyChain returns, so callers
// can tell tampering from an I/O failure of their own.
var ErrBrokenChain = errors.New("event chain broken")

// VerifyChain checks a lot's events, given in chain order. It returns 0 and
// nil when every link holds; otherwise the position (as a Seq: 1 for the
// first event) of the first event that breaks the chain, and an error
// wrapping ErrBrokenChain that says why: a sequence gap, an event of another
// lot, a PrevHash that is not the previous Hash, or a Hash that does not
// match the event's content. An empty chain is intact.
func VerifyChain(events []Event) (brokenAt int64, err error) {
	for i, e := range events {
		at := int64(i) + 1
		broken := func(format string, args ...any) (int64, error) {
			return at, fmt.Errorf("%w at event %d: %s", ErrBrokenChain, at, fmt.Sprintf(format, args...))
		}
		if e.Seq != at {
			return broken("seq is %d, want %d", e.Seq, at)
		}
		wantPrev := ""
		if i > 0 {
			wantPrev = events[i-1].Hash
			if e.Lot != events[0].Lot {
				return broken("lot is %q, want %q", e.Lot, events[0].Lot)
			}
		}
		if e.PrevHash != wantPrev {
			return broken("prev_hash %q does not match the previous event's hash %q", e.PrevHash, wantPrev)
		}
		if got := ChainHash(e.PrevHash, e); e.Hash != got {
			return broken("hash %q does not match its content (recomputed %q)", e.Hash, got)
		}
	}
	return 0, nil
}
