package orders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// Payout runs. A cooperative pays its members what their balances say it
// owes them: a run lists the members it pays, each amount and how (cash or
// transfer), and is recorded once. It is computed and written in one
// Atomically step that first writes the cooperative's member_accounts
// document, so two runs started together are serialised (the embedded
// store's lock; a write conflict on a replica set, whose loser is retried
// and then sees the winner's run): a balance is paid once. Under the same
// Idempotency-Key and body a run is recorded once and returned again; the
// same key with another body is refused (422).

// MemberPayout is one member paid by a run.
type MemberPayout struct {
	Member        string        `json:"member" bson:"member"`
	Name          string        `json:"name" bson:"name"`
	Amount        catalog.Money `json:"amount" bson:"amount"`
	BalanceBefore catalog.Money `json:"balance_before" bson:"balance_before"`
}

// MemberPayoutRun is a recorded payout run.
type MemberPayoutRun struct {
	ID          string         `json:"id" bson:"_id"`
	Cooperative string         `json:"cooperative" bson:"coop"`
	Method      string         `json:"method" bson:"method"`
	Note        string         `json:"note,omitempty" bson:"note,omitempty"`
	Lines       []MemberPayout `json:"lines" bson:"lines"`
	Total       catalog.Money  `json:"total" bson:"total"`
	By          string         `json:"by" bson:"by"`
	At          time.Time      `json:"at" bson:"at"`
	BodyHash    string         `json:"-" bson:"body_hash,omitempty"`
}

// PayoutRequest asks to pay one member an amount (at most her balance).
type PayoutRequest struct {
	Member string        `json:"member"`
	Amount catalog.Money `json:"amount"`
}

// NewPayoutRun is the body of POST /api/v1/cooperatives/{coop}/member-payouts.
// Without lines, every member with a positive balance is paid all of it.
type NewPayoutRun struct {
	Method string          `json:"method"` // cash or transfer
	Note   string          `json:"note,omitempty"`
	Lines  []PayoutRequest `json:"lines,omitempty"`
}

// PayMembers records a payout run for a cooperative: the members named in
// req.Lines with their amounts, or every member whose balance is positive
// with all of it. Balances are those of today (every entry booked so far,
// converted where the month's rate is recorded). The cooperative's manager
// or the admin runs it. With an idempotency key, the same key and body
// return the run recorded the first time (replay true).
//
// Errors, with nothing written: 400 on "method", "note", "lines[i].member"
// (listed twice), "lines[i].amount" (not positive, or not in the
// cooperative's currency) and "Idempotency-Key"; 404 on "lines[i].member"
// for someone who is not a member of the cooperative; 409 on
// "lines[i].amount" above the member's balance, and when no member has
// anything to be paid; 422 for a key used with another body.
func (p *MemberPay) PayMembers(ctx context.Context, actor access.Actor, coop string, req NewPayoutRun, idemKey string) (MemberPayoutRun, bool, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ManageCoop(coop); err != nil {
		return MemberPayoutRun{}, false, err
	}
	c, err := p.trace.Cooperative(ctx, actor, coop)
	if err != nil {
		return MemberPayoutRun{}, false, err
	}
	req.Method, req.Note = strings.TrimSpace(req.Method), strings.TrimSpace(req.Note)
	if err := problem.OneOf("method", req.Method, traceability.AdvanceMethods); err != nil {
		return MemberPayoutRun{}, false, err
	}
	if len([]rune(req.Note)) > 500 {
		return MemberPayoutRun{}, false, problem.Field("note", "must be at most %d characters", 500)
	}
	if len(req.Lines) > 10_000 {
		return MemberPayoutRun{}, false, problem.Field("lines", "at most %d members in one run", 10_000)
	}
	seen := map[string]bool{}
	for i := range req.Lines {
		l := &req.Lines[i]
		l.Member = strings.TrimSpace(l.Member)
		field := fmt.Sprintf("lines[%d]", i)
		if l.Member == "" {
			return MemberPayoutRun{}, false, problem.Field(field+".member", "is required")
		}
		if seen[l.Member] {
			return MemberPayoutRun{}, false, problem.Field(field+".member", "member %s is listed twice", l.Member)
		}
		seen[l.Member] = true
		l.Amount.Currency = strings.ToUpper(strings.TrimSpace(l.Amount.Currency))
		if l.Amount.Currency != c.Currency() {
			return MemberPayoutRun{}, false, problem.Field(field+".amount.currency", "must be %s, the currency the cooperative pays its members in", c.Currency())
		}
		if l.Amount.Amount <= 0 || l.Amount.Amount > 100_000_000 {
			return MemberPayoutRun{}, false, problem.Field(field+".amount.amount", "must be a whole number of minor units (centimes) from 1 to 100 000 000")
		}
	}
	if len(idemKey) > 200 {
		return MemberPayoutRun{}, false, problem.Field("Idempotency-Key", "must be at most 200 characters")
	}
	bodyHash := hashOf(req)
	var run MemberPayoutRun
	replay := false
	err = p.orders.db.Atomically(ctx, func(ctx context.Context) error {
		run, replay = MemberPayoutRun{}, false
		id := id.New("mpr")
		if idemKey != "" {
			sum := sha256.Sum256([]byte(coop + "|" + idemKey))
			id = "mpr_" + hex.EncodeToString(sum[:12])
			was, ok, err := p.orders.store.memberPayoutRun(ctx, id)
			if err != nil {
				return err
			}
			if ok {
				if was.BodyHash != bodyHash {
					return problem.New(problem.Unprocessable, "this Idempotency-Key was used with another request body")
				}
				run, replay = was, true
				return nil
			}
		}
		// The lock comes first: whatever is read after it, a concurrent run
		// either sees this one or is retried after it.
		if err := p.orders.store.lockMemberAccounts(ctx, coop); err != nil {
			return err
		}
		b, err := p.newBook(ctx, actor, coop, nil)
		if err != nil {
			return err
		}
		month := p.now().UTC().Format("2006-01")
		st, err := b.statements(ctx, month, month)
		if err != nil {
			return err
		}
		balances := map[string]MemberStatement{}
		for _, m := range st.Members {
			balances[m.Member] = m
		}
		run = MemberPayoutRun{ID: id, Cooperative: coop, Method: req.Method, Note: req.Note, Lines: []MemberPayout{},
			Total: b.money(0), By: actor.Email, At: p.now().UTC().Truncate(time.Millisecond), BodyHash: bodyHash}
		if len(req.Lines) == 0 {
			for _, m := range st.Members {
				if m.Balance.Amount > 0 {
					run.Lines = append(run.Lines, MemberPayout{Member: m.Member, Name: m.Name, Amount: m.Balance, BalanceBefore: m.Balance})
				}
			}
			if len(run.Lines) == 0 {
				return problem.New(problem.Conflict, "no member of %s has a positive balance to pay", coop)
			}
		}
		for i, l := range req.Lines {
			field := fmt.Sprintf("lines[%d]", i)
			m, known := b.members[l.Member]
			if !known {
				err := problem.New(problem.NotFound, "%s is not a member of cooperative %s", l.Member, coop)
				err.Field = field + ".member"
				return err
			}
			bal := balances[l.Member].Balance.Amount
			if l.Amount.Amount > bal {
				err := problem.New(problem.Conflict, "%s is owed %s; a payout of %s is more than that balance",
					m.Name, b.money(bal).String(), l.Amount.String())
				err.Field = field + ".amount"
				return err
			}
			run.Lines = append(run.Lines, MemberPayout{Member: l.Member, Name: m.Name, Amount: l.Amount, BalanceBefore: b.money(bal)})
		}
		slices.SortFunc(run.Lines, func(a, b MemberPayout) int { return strings.Compare(a.Name+a.Member, b.Name+b.Member) })
		for _, l := range run.Lines {
			run.Total.Amount += l.Amount.Amount
		}
		return p.orders.store.insertMemberPayoutRun(ctx, run)
	})
	if err != nil {
		return MemberPayoutRun{}, false, err
	}
	return run, replay, nil
}

// PayoutRuns lists a cooperative's payout runs, oldest first, to those who
// may read its records.
func (p *MemberPay) PayoutRuns(ctx context.Context, actor access.Actor, coop string) ([]MemberPayoutRun, error) {
	c, err := p.trace.Cooperative(ctx, actor, coop)
	if err != nil {
		return nil, err
	}
	runs, err := p.orders.store.memberPayoutRuns(ctx, c.Code)
	if runs == nil {
		runs = []MemberPayoutRun{}
	}
	return runs, err
}
