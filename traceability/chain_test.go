package traceability

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fiveEventChain builds a sealed chain in which every event has inputs and
// outputs, so that a change to any nested field can be tried on any event.
func fiveEventChain(tb testing.TB) []Event {
	tb.Helper()
	start := time.Date(2025, 11, 3, 8, 30, 0, 123_456_789, time.UTC)
	types := []string{EventCreated, EventConsumed, EventPacked, EventShipped, EventReceived}
	var chain []Event
	for i, typ := range types {
		e := Event{
			Lot:      "SAF-7K3QX9MDT",
			Type:     typ,
			At:       start.Add(time.Duration(i) * time.Hour),
			Actor:    "user:amina",
			Place:    "Taliouine",
			Quantity: 1_250_000,
			Unit:     Milligram,
			Inputs:   []EventRef{{Lot: "SAF-00000000A", Quantity: 500_000, Unit: Milligram}},
			Outputs:  []EventRef{{Lot: "SAF-ZZZZZZZZB", Quantity: 40, Unit: Piece}},
			Note:     "lot " + typ,
		}
		var prev *Event
		if i > 0 {
			prev = &chain[i-1]
		}
		chain = append(chain, SealEvent(prev, e))
	}
	return chain
}

func TestCanonicalEventGolden(t *testing.T) {
	e := Event{
		Lot:      "ARG-01234567X",
		Seq:      2,
		Type:     EventTransformed,
		At:       time.Date(2025, 11, 3, 9, 30, 0, 987_654_321, time.FixedZone("Africa/Casablanca", 3600)),
		Actor:    "user:fatima",
		Place:    "Tiouziouine",
		Quantity: 1_500,
		Unit:     Millilitre,
		Inputs:   []EventRef{{Lot: "ARG-A", Quantity: 3_000_000, Unit: Milligram}},
		Note:     "pressé à froid \"extra\"\n",
		PrevHash: "ab",
		Hash:     "ignored",
	}
	const want = `{"v":1,"lot":"ARG-01234567X","seq":2,"type":"transformed","at":"2025-11-03T08:30:00.987Z",` +
		`"actor":"user:fatima","place":"Tiouziouine","quantity":1500,"unit":"ml",` +
		`"inputs":[{"lot":"ARG-A","quantity":3000000,"unit":"mg"}],"outputs":[],` +
		`"note":"pressé à froid \"extra\"\u000a","prev_hash":"ab"}`
	if got := string(CanonicalEvent(e)); got != want {
		t.Errorf("CanonicalEvent() =\n%s\nwant\n%s", got, want)
	}
	// The hash of this event is part of the format: if it changes, every
	// stored chain stops verifying. Change it only with a new format version.
	const wantHash = "fa144fd99415adf8b2501b32ff4e7b99f1aec0f4fc5a994f07e91d9a7d839ab2"
	if got := ChainHash("ab", e); got != wantHash {
		t.Errorf("ChainHash() = %s, want %s", got, wantHash)
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"Taliouine", `"Taliouine"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"tab\there", `"tab\u0009here"`},
		{"زعفران", `"زعفران"`},
		{"bad\xffbyte", `"bad\ufffdbyte"`},
		{"<&>", `"<&>"`}, // no HTML escaping: bytes as stored
	}
	for _, tt := range tests {
		if got := string(appendJSONString(nil, tt.in)); got != tt.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestSealEvent(t *testing.T) {
	at := time.Date(2025, 11, 3, 9, 30, 0, 987_654_321, time.FixedZone("+01", 3600))
	first := SealEvent(nil, Event{Lot: "L", Seq: 99, PrevHash: "junk", Type: EventCreated, At: at})
	second := SealEvent(&first, Event{Lot: "L", Type: EventPacked, At: at})
	tests := []struct {
		name     string
		e        Event
		seq      int64
		prevHash string
	}{
		{"first", first, 1, ""},
		{"second", second, 2, first.Hash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.e.Seq != tt.seq || tt.e.PrevHash != tt.prevHash {
				t.Errorf("Seq, PrevHash = %d, %q; want %d, %q", tt.e.Seq, tt.e.PrevHash, tt.seq, tt.prevHash)
			}
			if want := at.UTC().Truncate(time.Millisecond); !tt.e.At.Equal(want) || tt.e.At.Location() != time.UTC {
				t.Errorf("At = %v, want %v in UTC", tt.e.At, want)
			}
			if len(tt.e.Hash) != 64 || tt.e.Hash != ChainHash(tt.e.PrevHash, tt.e) {
				t.Errorf("Hash = %q, want the chain hash", tt.e.Hash)
			}
		})
	}
}

// TestVerifyChainSurvivesStoreRoundTrip mimics what BSON gives back: times in
// another location at millisecond precision, and nil and empty lists swapped.
func TestVerifyChainSurvivesStoreRoundTrip(t *testing.T) {
	chain := fiveEventChain(t)
	chain = append(chain, SealEvent(&chain[4], Event{Lot: chain[0].Lot, Type: EventSold, At: time.Now(), Inputs: []EventRef{}}))
	for i := range chain {
		chain[i].At = chain[i].At.In(time.FixedZone("+01", 3600))
	}
	chain[5].Inputs = nil           // sealed as an empty list
	chain[5].Outputs = []EventRef{} // sealed as nil
	if at, err := VerifyChain(chain); err != nil {
		t.Fatalf("VerifyChain() = %d, %v; want intact", at, err)
	}
}

func TestVerifyChainDetectsEveryFieldChange(t *testing.T) {
	mutations := eventMutations(t)
	for k := range 5 {
		for _, m := range mutations {
			t.Run(m.name+"@"+string(rune('1'+k)), func(t *testing.T) {
				chain := fiveEventChain(t)
				if at, err := VerifyChain(chain); err != nil {
					t.Fatalf("untouched chain: %d, %v", at, err)
				}
				m.apply(&chain[k])
				at, err := VerifyChain(chain)
				if !errors.Is(err, ErrBrokenChain) || at != int64(k+1) {
					t.Errorf("VerifyChain() = %d, %v; want broken at %d", at, err, k+1)
				}
			})
		}
	}
}

type eventMutation struct {
	name  string
	apply func(*Event)
}

// eventMutations derives, by reflection, one change per field of Event and of
// the first EventRef in each list, and fails if a field type is not handled,
// so that a field added later cannot silently escape the hash.
func eventMutations(tb testing.TB) []eventMutation {
	tb.Helper()
	var out []eventMutation
	eventType := reflect.TypeFor[Event]()
	for i := range eventType.NumField() {
		f := eventType.Field(i)
		switch f.Type {
		case reflect.TypeFor[[]EventRef]():
			refType := reflect.TypeFor[EventRef]()
			for j := range refType.NumField() {
				out = append(out, eventMutation{f.Name + "[0]." + refType.Field(j).Name, func(e *Event) {
					list := reflect.ValueOf(e).Elem().Field(i)
					fresh := reflect.MakeSlice(list.Type(), list.Len(), list.Len())
					reflect.Copy(fresh, list) // do not alias the original backing array
					list.Set(fresh)
					mutateValue(tb, list.Index(0).Field(j))
				}})
			}
			out = append(out,
				eventMutation{f.Name + " appended", func(e *Event) {
					list := reflect.ValueOf(e).Elem().Field(i)
					list.Set(reflect.Append(list, reflect.ValueOf(EventRef{Lot: "X", Quantity: 1, Unit: Piece})))
				}},
				eventMutation{f.Name + " emptied", func(e *Event) {
					reflect.ValueOf(e).Elem().Field(i).SetLen(0)
				}},
			)
		default:
			out = append(out, eventMutation{f.Name, func(e *Event) {
				mutateValue(tb, reflect.ValueOf(e).Elem().Field(i))
			}})
		}
	}
	return out
}

func mutateValue(tb testing.TB, v reflect.Value) {
	tb.Helper()
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Second)))
	case v.Kind() == reflect.String:
		v.SetString(v.String() + "x")
	case v.Kind() == reflect.Int64:
		v.SetInt(v.Int() + 1)
	default:
		tb.Fatalf("no mutation for a field of type %s: extend the test and CanonicalEvent", v.Type())
	}
}

func TestVerifyChainStructuralBreaks(t *testing.T) {
	tests := []struct {
		name    string
		edit    func([]Event) []Event
		at      int64
		message string
	}{
		{"intact", func(c []Event) []Event { return c }, 0, ""},
		{"empty", func([]Event) []Event { return nil }, 0, ""},
		{"deleted event", func(c []Event) []Event { return append(c[:2], c[3:]...) }, 3, "seq is 4, want 3"},
		{"swapped events", func(c []Event) []Event { c[1], c[2] = c[2], c[1]; return c }, 2, "seq is 3, want 2"},
		{"truncated head", func(c []Event) []Event { return c[1:] }, 1, "seq is 2, want 1"},
		{"foreign event resealed", func(c []Event) []Event {
			c[3] = SealEvent(&c[2], Event{Lot: "ARG-OTHER", Type: EventSold})
			c[4] = SealEvent(&c[3], c[4])
			return c
		}, 4, `lot is "ARG-OTHER"`},
		{"relinked to another prev", func(c []Event) []Event {
			c[2].PrevHash = c[0].Hash
			c[2].Hash = ChainHash(c[2].PrevHash, c[2])
			return c
		}, 3, "does not match the previous event's hash"},
		{"content edited", func(c []Event) []Event { c[4].Quantity = 1; return c }, 5, "does not match its content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, err := VerifyChain(tt.edit(fiveEventChain(t)))
			if at != tt.at {
				t.Errorf("brokenAt = %d, want %d (err %v)", at, tt.at, err)
			}
			if tt.message == "" {
				if err != nil {
					t.Errorf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrBrokenChain) || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("err = %v, want ErrBrokenChain mentioning %q", err, tt.message)
			}
		})
	}
}
