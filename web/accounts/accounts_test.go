package accounts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/mongodb/mongotest"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/internal/testworld"
	"github.com/terroir-coop/terroir/web/accounts"
)

// newAccounts is the service on a fresh store with a moving clock; the
// organisations SIROUA (cooperative) and TAROUDANNT (shop) exist.
func newAccounts(t *testing.T) (*accounts.Service, *testworld.Clock) {
	t.Helper()
	store := mongotest.New(t)
	if err := store.EnsureIndexes(context.Background(), accounts.Indexes()); err != nil {
		t.Fatal(err)
	}
	clock := &testworld.Clock{}
	s := accounts.NewService(accounts.NewStore(store), clock.Now, func(_ context.Context, role access.Role, org string) error {
		if (role == access.ShopManager && org == "TAROUDANNT") || (role != access.ShopManager && org == "SIROUA") {
			return nil
		}
		return problem.New(problem.NotFound, "not found")
	})
	s.SetBcryptCost(bcrypt.MinCost)
	return s, clock
}

var admin = access.Actor{UserID: "usr_root", Email: "root@test", Role: access.Admin}

func TestUsersAreCheckedBeforeTheyAreCreated(t *testing.T) {
	s, _ := newAccounts(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		nu    accounts.NewUser
		field string
	}{
		{"bad email", accounts.NewUser{Email: "nobody", Password: "long enough pass", Role: access.Admin}, "email"},
		{"short password", accounts.NewUser{Email: "a@b.ma", Password: "short", Role: access.Admin}, "password"},
		{"unknown role", accounts.NewUser{Email: "a@b.ma", Password: "long enough pass", Role: "boss"}, "role"},
		{"admin with an org", accounts.NewUser{Email: "a@b.ma", Password: "long enough pass", Role: access.Admin, Org: "SIROUA"}, "org"},
		{"manager without org", accounts.NewUser{Email: "a@b.ma", Password: "long enough pass", Role: access.CoopManager}, "org"},
		{"shop that does not exist", accounts.NewUser{Email: "a@b.ma", Password: "long enough pass", Role: access.ShopManager, Org: "NOPE"}, "org"},
		{"auditor without scope", accounts.NewUser{Email: "a@b.ma", Password: "long enough pass", Role: access.Auditor}, "scope"},
		{"auditor of an unknown coop", accounts.NewUser{Email: "a@b.ma", Password: "long enough pass", Role: access.Auditor, Scope: []string{"NOPE"}}, "scope"},
	}
	for _, tt := range tests {
		_, err := s.CreateUser(ctx, admin, tt.nu)
		if pe, ok := problem.As(err); !ok || pe.Code != problem.Invalid || pe.Field != tt.field {
			t.Errorf("%s: %v, want invalid %s", tt.name, err, tt.field)
		}
	}
	u, err := s.CreateUser(ctx, admin, accounts.NewUser{Email: " Aicha@Coop.MA ", Password: "long enough pass", Role: access.Auditor, Org: "SIROUA"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "aicha@coop.ma" || u.Org != "" || len(u.Scope) != 1 || u.Scope[0] != "SIROUA" {
		t.Fatalf("stored %+v: an auditor's org joins its scope, emails are normalised", u)
	}
	if _, err := s.CreateUser(ctx, admin, accounts.NewUser{Email: "aicha@coop.ma", Password: "another long one", Role: access.Admin}); problem.CodeOf(err) != problem.Conflict {
		t.Fatalf("duplicate email: %v", err)
	}
	if _, err := s.CreateUser(ctx, u.Actor(), accounts.NewUser{Email: "x@y.ma", Password: "long enough pass", Role: access.Admin}); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("an auditor creates users: %v", err)
	}
}

func TestWrongPasswordsAreThrottledForFifteenMinutes(t *testing.T) {
	s, clock := newAccounts(t)
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, admin, accounts.NewUser{Email: "trd@shop.ma", Password: "the right password", Role: access.ShopManager, Org: "TAROUDANNT"}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := s.Authenticate(ctx, "trd@shop.ma", "wrong", "10.0.0.1"); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// Over the limit even the right password is refused, from any address.
	if _, err := s.Authenticate(ctx, "trd@shop.ma", "the right password", "10.0.0.2"); !errors.Is(err, accounts.ErrThrottled) {
		t.Fatalf("after five failures: %v", err)
	}
	// An unknown account fails like a wrong password, and counts.
	if _, err := s.Authenticate(ctx, "ghost@shop.ma", "x", "10.0.0.3"); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("unknown account: %v", err)
	}
	clock.Advance(16 * time.Minute)
	u, err := s.Authenticate(ctx, "TRD@shop.ma", "the right password", "10.0.0.1")
	if err != nil || u.Org != "TAROUDANNT" {
		t.Fatalf("after the window: %+v %v", u, err)
	}
}

func TestTokensAndSessionsExpireAndCanBeRevoked(t *testing.T) {
	s, clock := newAccounts(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, admin, accounts.NewUser{Email: "siroua@coop.ma", Password: "the right password", Role: access.CoopManager, Org: "SIROUA"})
	if err != nil {
		t.Fatal(err)
	}
	api, tok, err := s.IssueToken(ctx, u, accounts.KindAPI, time.Hour)
	if err != nil || tok.CSRF != "" {
		t.Fatalf("api token: %+v %v", tok, err)
	}
	session, sess, err := s.IssueToken(ctx, u, accounts.KindSession, 12*time.Hour)
	if err != nil || sess.CSRF == "" {
		t.Fatalf("a session carries its CSRF secret: %+v %v", sess, err)
	}
	if got, _, err := s.Resolve(ctx, api, accounts.KindAPI); err != nil || got.ID != u.ID {
		t.Fatalf("resolve: %+v %v", got, err)
	}
	// A secret of one kind does not open the other.
	if _, _, err := s.Resolve(ctx, api, accounts.KindSession); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("an API token as a session: %v", err)
	}
	clock.Advance(61 * time.Minute)
	if _, _, err := s.Resolve(ctx, api, accounts.KindAPI); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("an expired token resolves: %v", err)
	}
	if _, _, err := s.Resolve(ctx, session, accounts.KindSession); err != nil {
		t.Fatalf("the session still runs: %v", err)
	}
	if err := s.Revoke(ctx, session); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Resolve(ctx, session, accounts.KindSession); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("a revoked session resolves: %v", err)
	}
	if err := s.SweepExpired(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTheFirstAdminIsCreatedOnce(t *testing.T) {
	s, _ := newAccounts(t)
	ctx := context.Background()
	for i, want := range []bool{true, false} {
		created, err := s.EnsureFirstAdmin(ctx, "root@terroir.ma", "a long admin password")
		if err != nil || created != want {
			t.Fatalf("call %d: created %v (%v), want %v", i, created, err, want)
		}
	}
	users, err := s.Users(ctx, admin, mongodb.Page{Limit: 10})
	if err != nil || len(users) != 1 || users[0].Role != access.Admin {
		t.Fatalf("users: %+v %v", users, err)
	}
}

// TestResolvedCredentialsCostNoRead: on the embedded store a credential is
// read once; after that it costs no store command, and still expires at
// its time and stops at once when revoked — also when the revocation runs
// while a Resolve is reading it.
func TestResolvedCredentialsCostNoRead(t *testing.T) {
	store := mongotest.New(t)
	if !store.Embedded() {
		t.Skip("the cache is for the embedded store only")
	}
	ctx := context.Background()
	clock := &testworld.Clock{}
	s := accounts.NewService(accounts.NewStore(store), clock.Now, func(context.Context, access.Role, string) error { return nil })
	s.SetBcryptCost(bcrypt.MinCost)
	u, err := s.CreateUser(ctx, admin, accounts.NewUser{Email: "taroudannt@shop.ma", Password: "the right password", Role: access.ShopManager, Org: "TAROUDANNT"})
	if err != nil {
		t.Fatal(err)
	}
	api, _, err := s.IssueToken(ctx, u, accounts.KindAPI, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(secret, kind string) (int64, error) {
		before := store.Commands()
		got, _, err := s.Resolve(ctx, secret, kind)
		if err == nil && got.ID != u.ID {
			t.Fatalf("resolved %+v", got)
		}
		return store.Commands() - before, err
	}
	if n, err := resolve(api, accounts.KindAPI); err != nil || n != 2 {
		t.Fatalf("first resolve: %d commands, %v; want the token and the user read", n, err)
	}
	if n, err := resolve(api, accounts.KindAPI); err != nil || n != 0 {
		t.Fatalf("second resolve: %d commands, %v; want none", n, err)
	}
	if _, err := resolve(api, accounts.KindSession); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("a cached API token as a session: %v", err)
	}
	clock.Advance(61 * time.Minute)
	if _, err := resolve(api, accounts.KindAPI); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("a cached token past its expiry: %v", err)
	}
	// Revocations, with Resolves of the same secret running alongside:
	// once Revoke has returned, no Resolve succeeds.
	for range 20 {
		secret, _, err := s.IssueToken(ctx, u, accounts.KindSession, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := resolve(secret, accounts.KindSession); err != nil {
			t.Fatal(err)
		}
		stop := testworld.Meanwhile(func() { _, _, _ = s.Resolve(ctx, secret, accounts.KindSession) })
		if err := s.Revoke(ctx, secret); err != nil {
			t.Fatal(err)
		}
		stop()
		if _, err := resolve(secret, accounts.KindSession); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("a revoked session resolves: %v", err)
		}
	}
}
