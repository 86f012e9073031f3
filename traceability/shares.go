package traceability

import (
	"context"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Shares: which members brought what is in a lot, carried by mass.
//
// Every lot records each member's share as an integer weight, and the share
// of a member is her weight over the sum of the lot's weights (its basis).
// Weights are exact base units, never floats, and always add up to the
// basis exactly:
//
//   - an origin lot: each member's weight is the mass of her harvests in it
//     (mg), so the basis is the lot's quantity;
//   - a transformation's outputs: each input's taken quantity is split over
//     that input's weights by largest remainder (the parts of an input add
//     up exactly to what was taken from it), and a member's weight is the
//     sum of her parts over the inputs, in base units of the input kind. The
//     basis is what the transformation took; every output of one
//     transformation has the same shares (a distillation's essential oil
//     and hydrosol come from the same plants);
//   - a packed lot: its source lot's shares, as they are (packing does not
//     mix).
//
// A member whose part of an input rounds to nothing (less than one base
// unit) is not in the output.
//
// Corrections. Only a harvest correction changes shares: the origin lot's
// weights follow the corrected harvest, then every lot made from it, down
// to the packed lots (transitively, through blends), is recomputed from its
// inputs' new shares and the quantities the recorded steps took. The origin
// lot's own "corrected" event records its change (its origin line holds the
// corrected harvest); every lot below it whose shares change gets a
// "shares_changed" event (no quantity) whose note states the correction and
// the new weights, so the change is in the lot's hash chain. Every changed
// lot keeps the shares it had before with the time they ended
// (ShareHistory). Lots made before shares were recorded get theirs stored
// at that point.
// A sale is divided among members by the shares in force when it happened
// (SharesAt): what was sold before the correction stays divided as it was
// (those members may have been paid on it), and a refund or a return
// reverses exactly what its sale gave. A transformation's own quantities and
// corrections of transformed lots do not change shares: they change how
// much there is, not who brought it.

// EventSharesChanged records that a correction upstream changed the members'
// shares of a lot; its note lists the new weights.
const EventSharesChanged = "shares_changed"

// MemberShare is one member's part of a lot, as an integer weight in base
// units (shares.go says of what).
type MemberShare struct {
	Member string `json:"member" bson:"member"`
	Weight int64  `json:"weight" bson:"weight"`
}

// ShareVersion is what a lot's shares were until a correction changed them.
type ShareVersion struct {
	Until  time.Time     `json:"until" bson:"until"`
	Shares []MemberShare `json:"shares" bson:"shares"`
}

// SplitLargestRemainder divides amount (≥ 0) in proportion to weights (each
// ≥ 0) by largest remainder: every part is amount × weight / Σ weights
// rounded down, and the units left over go one each to the largest
// remainders (ties to the earlier weight), so the parts add up to amount
// exactly. Products are computed in 128 bits, so any int64 amount and
// weights whose sum fits an int64 are exact. All zero weights give all zero
// parts.
func SplitLargestRemainder(amount int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	var sum uint64
	for _, w := range weights {
		if w > 0 {
			sum += uint64(w)
		}
	}
	if sum == 0 || amount <= 0 {
		return out
	}
	rems := make([]uint64, len(weights))
	var given int64
	for i, w := range weights {
		if w <= 0 {
			continue
		}
		hi, lo := bits.Mul64(uint64(amount), uint64(w))
		q, r := bits.Div64(hi, lo, sum) // q ≤ amount, since w ≤ sum
		out[i], rems[i] = int64(q), r
		given += int64(q)
	}
	order := make([]int, 0, len(weights))
	for i, w := range weights {
		if w > 0 {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rems[a] > rems[b]:
			return -1
		case rems[a] < rems[b]:
			return 1
		}
		return 0
	})
	for k := int64(0); k < amount-given; k++ {
		out[order[k]]++
	}
	return out
}

// originShares are an origin lot's shares: each member's harvests' mass.
func originShares(origin []OriginLine) []MemberShare {
	by := map[string]int64{}
	for _, o := range origin {
		by[o.Member] += o.Quantity
	}
	return sharesOf(by)
}

func sharesOf(by map[string]int64) []MemberShare {
	out := make([]MemberShare, 0, len(by))
	for m, w := range by {
		if w > 0 {
			out = append(out, MemberShare{Member: m, Weight: w})
		}
	}
	slices.SortFunc(out, func(a, b MemberShare) int { return strings.Compare(a.Member, b.Member) })
	return out
}

// shareInput is a quantity taken from a lot with the lot's shares.
type shareInput struct {
	shares []MemberShare
	taken  int64
}

// inheritShares are the shares of what a transformation made from its
// inputs: each input's taken quantity split over its shares.
func inheritShares(inputs []shareInput) []MemberShare {
	by := map[string]int64{}
	for _, in := range inputs {
		weights := make([]int64, len(in.shares))
		for i, sh := range in.shares {
			weights[i] = sh.Weight
		}
		for i, part := range SplitLargestRemainder(in.taken, weights) {
			by[in.shares[i].Member] += part
		}
	}
	return sharesOf(by)
}

// ShareBasis is the sum of the weights: the denominator of every share.
func ShareBasis(shares []MemberShare) int64 {
	var sum int64
	for _, sh := range shares {
		sum += sh.Weight
	}
	return sum
}

// currentShares returns a lot's shares. Lots made before shares were
// recorded have none stored: theirs are derived the same way from their
// origin and inputs (an origin lot's harvests; a packed lot's source, or
// its origin when it names no source; a transformation's inputs), so every
// lot has shares.
func (s *Service) currentShares(ctx context.Context, l Lot) ([]MemberShare, error) {
	return s.derivedShares(ctx, l, map[string][]MemberShare{}, 0)
}

func (s *Service) derivedShares(ctx context.Context, l Lot, memo map[string][]MemberShare, depth int) ([]MemberShare, error) {
	if len(l.Shares) > 0 {
		return l.Shares, nil
	}
	if sh, ok := memo[l.Code]; ok {
		return sh, nil
	}
	if depth > maxAncestors {
		return nil, fmt.Errorf("traceability: lot %s: more than %d ancestors", l.Code, maxAncestors)
	}
	var out []MemberShare
	switch {
	case l.Source == SourceHarvest || len(l.Inputs) == 0:
		out = originShares(l.Origin)
	case l.Source == SourcePacking:
		src, err := s.store.lotShares(ctx, l.Inputs[0].Lot)
		if err != nil {
			return nil, err
		}
		if out, err = s.derivedShares(ctx, src, memo, depth+1); err != nil {
			return nil, err
		}
	default:
		var ins []shareInput
		for _, in := range l.Inputs {
			src, err := s.store.lotShares(ctx, in.Lot)
			if err != nil {
				return nil, err
			}
			sh, err := s.derivedShares(ctx, src, memo, depth+1)
			if err != nil {
				return nil, err
			}
			ins = append(ins, shareInput{shares: sh, taken: in.Quantity})
		}
		out = inheritShares(ins)
	}
	memo[l.Code] = out
	return out, nil
}

// sharesNote is the text of a shares_changed event: why, then the weights,
// so the hash chain covers them.
func sharesNote(why string, shares []MemberShare, unit Unit) string {
	var b strings.Builder
	b.WriteString(why)
	b.WriteString("; shares:")
	for _, sh := range shares {
		b.WriteString(" ")
		b.WriteString(sh.Member)
		b.WriteString("=")
		b.WriteString(strconv.FormatInt(sh.Weight, 10))
	}
	fmt.Fprintf(&b, " (of %d %s)", ShareBasis(shares), unit)
	return b.String()
}

// reshareDownstream recomputes the shares of every lot made from the lot
// changed (whose shares went from old to shares), in an order where each lot
// comes after all its inputs, and records each change with a shares_changed
// event. Callers hold Atomically and have written changed's own shares.
func (s *Service) reshareDownstream(ctx context.Context, actor access.Actor, changed Lot, old, shares []MemberShare, why string, now time.Time) error {
	// The lots below the changed one, and the inputs of each among them.
	lots := map[string]Lot{}
	var walk func(l Lot) error
	walk = func(l Lot) error {
		for _, e := range l.Events {
			if e.Type != EventConsumed {
				continue
			}
			for _, o := range e.Outputs {
				if _, seen := lots[o.Lot]; seen || o.Lot == changed.Code {
					continue
				}
				if len(lots) >= maxDescendants {
					return problem.New(problem.Unprocessable, "lot %s has more than %d lots made from it; its shares cannot be recomputed in one step", changed.Code, maxDescendants)
				}
				out, err := s.store.lot(ctx, o.Lot)
				if err != nil {
					return err
				}
				lots[o.Lot] = out
				if err := walk(out); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(changed); err != nil {
		return err
	}
	// What each lot's shares are after the correction (current) and were
	// before it (previous): a lot made before shares were recorded has none
	// stored, and deriving them now would already see the new ones.
	current := map[string][]MemberShare{changed.Code: shares}
	previous := map[string][]MemberShare{changed.Code: old}
	sharesOfInput := func(in map[string][]MemberShare, code string) ([]MemberShare, error) {
		if sh, ok := in[code]; ok {
			return sh, nil
		}
		l, err := s.store.lotShares(ctx, code)
		if err != nil {
			return nil, err
		}
		return s.currentShares(ctx, l)
	}
	recompute := func(in map[string][]MemberShare, l Lot) ([]MemberShare, error) {
		if l.Source == SourcePacking {
			sh, err := sharesOfInput(in, l.Inputs[0].Lot)
			return slices.Clone(sh), err
		}
		var ins []shareInput
		for _, ref := range l.Inputs {
			sh, err := sharesOfInput(in, ref.Lot)
			if err != nil {
				return nil, err
			}
			ins = append(ins, shareInput{shares: sh, taken: ref.Quantity})
		}
		return inheritShares(ins), nil
	}
	// Kahn's order over the lots below: a lot is recomputed once every
	// input of it that is also below has been.
	pending := map[string]int{}
	for code, l := range lots {
		for _, in := range l.Inputs {
			if _, below := lots[in.Lot]; below {
				pending[code]++
			}
		}
	}
	var ready []string
	for code := range lots {
		if pending[code] == 0 {
			ready = append(ready, code)
		}
	}
	slices.Sort(ready)
	for len(ready) > 0 {
		code := ready[0]
		ready = ready[1:]
		l := lots[code]
		next, err := recompute(current, l)
		if err != nil {
			return err
		}
		before := l.Shares
		if len(before) == 0 {
			if before, err = recompute(previous, l); err != nil {
				return err
			}
		}
		current[code], previous[code] = next, before
		if !slices.Equal(before, next) {
			if err := s.writeShares(ctx, actor, l, before, next, why, now); err != nil {
				return err
			}
		}
		var unlocked []string
		for c, o := range lots {
			if pending[c] == 0 {
				continue
			}
			for _, in := range o.Inputs {
				if in.Lot == code {
					pending[c]--
				}
			}
			if pending[c] == 0 {
				unlocked = append(unlocked, c)
			}
		}
		slices.Sort(unlocked)
		ready = append(ready, unlocked...)
	}
	return nil
}

// maxDescendants bounds how many lots one harvest correction may reshare.
const maxDescendants = 5000

// writeShares appends a lot's shares_changed event and stores its new
// shares, keeping the old ones until now.
func (s *Service) writeShares(ctx context.Context, actor access.Actor, l Lot, before, next []MemberShare, why string, now time.Time) error {
	history := append(slices.Clone(l.ShareHistory), ShareVersion{Until: now.UTC().Truncate(time.Millisecond), Shares: before})
	prev := l
	e := l.appendEvent(Event{Type: EventSharesChanged, At: now, Actor: actor.Email, Place: l.Cooperative, Note: sharesNote(why, next, shareUnit(l))})
	return s.store.correctLot(ctx, prev, 0, e, map[string]any{"shares": next, "share_history": history})
}

// SharesAt returns the shares in force at t: the version a correction
// ended after t, else the current shares.
func SharesAt(current []MemberShare, history []ShareVersion, t time.Time) []MemberShare {
	for _, v := range history {
		if t.Before(v.Until) {
			return v.Shares
		}
	}
	return current
}

// Fraction is an exact share: Numerator / Denominator.
type Fraction struct {
	Numerator   int64 `json:"numerator"`
	Denominator int64 `json:"denominator"`
}

// LotShare is one member's share of a lot, as its readers see it.
type LotShare struct {
	Member string `json:"member"`
	Name   string `json:"name"`
	Gender string `json:"gender"`
	// Share is her weight over the lot's basis, exactly; PerMille is the
	// same rounded so that the members' per-mille add up to 1000.
	Share    Fraction `json:"share"`
	PerMille int64    `json:"per_mille"`
	// Quantity is her part of what the lot holds now, in its content's
	// base unit (mg of saffron, ml of oil; a packed lot's units × their
	// size): the lot's content split by largest remainder, so the members'
	// quantities add up to the lot's.
	Quantity Quantity `json:"quantity"`
}

// LotShares are the members behind a lot and their shares.
type LotShares struct {
	Lot         string `json:"lot"`
	Cooperative string `json:"cooperative"`
	ProductKind string `json:"product_kind"`
	// Basis is the sum of the weights (the denominator of every share), in
	// BasisUnit: mg of the harvests for an origin lot, base units of what
	// the step that made the lot took otherwise.
	Basis     int64      `json:"basis"`
	BasisUnit Unit       `json:"basis_unit"`
	Content   Quantity   `json:"content"` // what the lot holds now
	Members   int        `json:"members"`
	Women     int        `json:"women"`
	Shares    []LotShare `json:"shares"`
}

// Shares returns the members behind a lot with their shares: for GET
// /api/v1/lots/{code}/shares. The owner cooperative, auditors in its scope
// and the admin may read it; anyone else gets ErrLotNotFound (a lot of
// another cooperative is not revealed). The public trace record carries
// only counts (TraceRecord.Producers, Women), never names.
func (s *Service) Shares(ctx context.Context, actor access.Actor, code string) (LotShares, error) {
	l, err := s.Lot(ctx, actor, code)
	if err != nil {
		return LotShares{}, err
	}
	shares, err := s.currentShares(ctx, l)
	if err != nil {
		return LotShares{}, err
	}
	names, err := s.memberNames(ctx, l.Origin, shares)
	if err != nil {
		return LotShares{}, err
	}
	content, unit := l.CurrentQuantity(), l.Unit
	if l.Source == SourcePacking && l.UnitSize > 0 {
		content, unit = content*l.UnitSize, l.UnitSizeOf
	}
	out := LotShares{Lot: l.Code, Cooperative: l.Cooperative, ProductKind: l.ProductKind, Basis: ShareBasis(shares),
		BasisUnit: shareUnit(l), Content: Quantity{Amount: content, Unit: string(unit)}, Shares: []LotShare{}}
	weights := make([]int64, len(shares))
	for i, sh := range shares {
		weights[i] = sh.Weight
	}
	perMille := SplitLargestRemainder(1000, weights)
	parts := SplitLargestRemainder(max(content, 0), weights)
	for i, sh := range shares {
		n := names[sh.Member]
		out.Shares = append(out.Shares, LotShare{Member: sh.Member, Name: n.Name, Gender: n.Gender,
			Share: Fraction{Numerator: sh.Weight, Denominator: out.Basis}, PerMille: perMille[i],
			Quantity: Quantity{Amount: parts[i], Unit: string(unit)}})
		out.Members++
		if n.Gender == "female" {
			out.Women++
		}
	}
	return out, nil
}

// shareUnit is the unit of a lot's weights.
func shareUnit(l Lot) Unit {
	if len(l.Inputs) > 0 {
		return l.Inputs[0].Unit
	}
	return Milligram // harvests
}

// MemberName is who a member is, as shares and statements show her.
type MemberName struct {
	Name   string `json:"name"`
	Gender string `json:"gender"`
}

// memberNames names the members of shares from the lot's origin (copied
// when the lot was made), reading the register for anyone missing.
func (s *Service) memberNames(ctx context.Context, origin []OriginLine, shares []MemberShare) (map[string]MemberName, error) {
	out := map[string]MemberName{}
	for _, o := range origin {
		out[o.Member] = MemberName{Name: o.MemberName, Gender: o.Gender}
	}
	for _, sh := range shares {
		if _, ok := out[sh.Member]; ok {
			continue
		}
		m, err := s.store.member(ctx, sh.Member)
		if err != nil {
			return nil, err
		}
		out[sh.Member] = MemberName{Name: m.Name, Gender: m.Gender}
	}
	return out, nil
}

// ShareTimeline is a lot's shares through time, for dividing its sales
// among its members (orders).
type ShareTimeline struct {
	Lot         string
	Cooperative string
	Current     []MemberShare
	History     []ShareVersion
	Names       map[string]MemberName
}

// At returns the shares in force at t.
func (t ShareTimeline) At(at time.Time) []MemberShare { return SharesAt(t.Current, t.History, at) }

// ShareTimeline returns a lot's shares through time, whoever asks: the
// caller (settlement to members) has checked that the actor may read the
// cooperative whose sales it divides, and checks the lot is of it.
func (s *Service) ShareTimeline(ctx context.Context, code string) (ShareTimeline, error) {
	l, err := s.store.lotShares(ctx, NormalizeLotCode(code))
	if err != nil {
		return ShareTimeline{}, err
	}
	cur, err := s.currentShares(ctx, l)
	if err != nil {
		return ShareTimeline{}, err
	}
	names, err := s.memberNames(ctx, l.Origin, cur)
	if err != nil {
		return ShareTimeline{}, err
	}
	for _, v := range l.ShareHistory {
		for _, sh := range v.Shares {
			if _, ok := names[sh.Member]; !ok {
				if m, err := s.store.member(ctx, sh.Member); err == nil {
					names[sh.Member] = MemberName{Name: m.Name, Gender: m.Gender}
				}
			}
		}
	}
	return ShareTimeline{Lot: l.Code, Cooperative: l.Cooperative, Current: cur, History: l.ShareHistory, Names: names}, nil
}

// AllMembers lists every member of a cooperative, or of every cooperative
// when coop is "" (the admin only): what members' statements and the
// network's impact report are computed over.
func (s *Service) AllMembers(ctx context.Context, actor access.Actor, coop string) ([]Member, error) {
	if err := readRegister(actor, &coop); err != nil {
		return nil, err
	}
	return s.store.allMembers(ctx, coop)
}

// AllHarvests lists every harvest (delivery) of a cooperative, or of every
// cooperative when coop is "" (the admin only), with their advances.
func (s *Service) AllHarvests(ctx context.Context, actor access.Actor, coop string) ([]Harvest, error) {
	if err := readRegister(actor, &coop); err != nil {
		return nil, err
	}
	return s.store.allHarvests(ctx, coop)
}

func readRegister(actor access.Actor, coop *string) error {
	*coop = id.NormalizeCode(*coop)
	if *coop == "" {
		return actor.RequireAdmin()
	}
	return actor.ReadCoop(*coop)
}
