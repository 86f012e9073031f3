package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/lru"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
)

// User is a person who logs in.
type User struct {
	ID           string      `json:"id" bson:"_id"`
	Email        string      `json:"email" bson:"email"`
	PasswordHash []byte      `json:"-" bson:"password_hash"`
	Role         access.Role `json:"role" bson:"role"`
	Org          string      `json:"org,omitempty" bson:"org,omitempty"`
	Scope        []string    `json:"scope,omitempty" bson:"scope,omitempty"`
	CreatedAt    time.Time   `json:"created_at" bson:"created_at"`
}

// Actor returns the access.Actor the user acts as.
func (u User) Actor() access.Actor {
	return access.Actor{UserID: u.ID, Email: u.Email, Role: u.Role, Org: u.Org, Scope: u.Scope}
}

// NewUser is what an admin gives to create a user.
type NewUser struct {
	Email    string
	Password string
	Role     access.Role
	Org      string   // cooperative code (coop_manager), shop code (shop_manager)
	Scope    []string // cooperative codes (auditor)
}

// OrgChecker confirms that an organisation exists for a role: a cooperative
// for a coop_manager or an auditor's scope, a shop for a shop_manager.
// cmd/terroir wires it to the traceability and shops services.
type OrgChecker func(ctx context.Context, role access.Role, org string) error

// Token kinds.
const (
	KindAPI     = "api"     // bearer token for the JSON API
	KindSession = "session" // browser session cookie
)

// Sentinel errors of the package.
var (
	ErrBadCredentials = problem.New(problem.Unauthorized, "wrong email or password")
	ErrThrottled      = problem.New(problem.TooManyRequests, "too many failed logins; wait 15 minutes and try again")
	ErrUserExists     = problem.New(problem.Conflict, "a user with this email exists already")
	ErrUserNotFound   = problem.New(problem.NotFound, "user not found")
)

// Throttle policy: failures counted per email and per client address in a
// sliding window. Ten per address lets a shop's shared connection survive a
// few typos from several people.
const (
	throttleWindow     = 15 * time.Minute
	maxFailuresByEmail = 5
	maxFailuresByAddr  = 20
	minPasswordLen     = 8
)

// Service manages users and their credentials. It is safe for concurrent use.
type Service struct {
	store      *Store
	now        func() time.Time
	checkOrg   OrgChecker
	bcryptCost int

	// resolved keeps what Resolve found, by the secret's hash, so that a
	// request costs no read of the token and its user: on the embedded
	// store only, whose data directory one process holds, so that every
	// revocation passes through Revoke, which forgets it; users are never
	// changed once created. A kept credential still expires at its own
	// time. On a replica set, where another instance may revoke a token, it
	// is nil and every request reads the store.
	resolved *lru.Memo[string, resolvedCredential]
}

type resolvedCredential struct {
	user  User
	token Token
}

// resolvedBudget bounds the credentials kept, about 1 KB each.
const resolvedBudget, resolvedSize = 4 << 20, 1 << 10

// NewService returns the accounts service.
func NewService(store *Store, now func() time.Time, checkOrg OrgChecker) *Service {
	s := &Service{store: store, now: now, checkOrg: checkOrg, bcryptCost: bcrypt.DefaultCost}
	if store.db.Embedded() {
		s.resolved = lru.NewMemo[string, resolvedCredential](resolvedBudget, resolvedSize)
	}
	return s
}

// SetBcryptCost lowers the hashing cost; tests use bcrypt.MinCost.
func (s *Service) SetBcryptCost(cost int) { s.bcryptCost = cost }

// NormalizeEmail lower-cases and checks an email address.
func NormalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 {
		return "", problem.Field("email", "is not a valid email address")
	}
	return email, nil
}

func (s *Service) validate(ctx context.Context, nu *NewUser) error {
	var err error
	if nu.Email, err = NormalizeEmail(nu.Email); err != nil {
		return err
	}
	if utf8.RuneCountInString(nu.Password) < minPasswordLen {
		return problem.Field("password", "must be at least %d characters", minPasswordLen)
	}
	if len(nu.Password) > 72 {
		return problem.Field("password", "must be at most 72 bytes") // bcrypt's limit
	}
	if !nu.Role.Valid() {
		return problem.Field("role", "must be one of admin, coop_manager, shop_manager, auditor")
	}
	nu.Org = id.NormalizeCode(nu.Org)
	for i := range nu.Scope {
		nu.Scope[i] = id.NormalizeCode(nu.Scope[i])
	}
	switch nu.Role {
	case access.Admin:
		if nu.Org != "" || len(nu.Scope) > 0 {
			return problem.Field("org", "must be empty for an admin")
		}
	case access.CoopManager, access.ShopManager:
		if nu.Org == "" {
			return problem.Field("org", "is required for a %s", nu.Role)
		}
		if err := s.checkOrg(ctx, nu.Role, nu.Org); problem.CodeOf(err) == problem.NotFound {
			return problem.Field("org", "no cooperative or shop %q", nu.Org)
		} else if err != nil {
			return err
		}
	case access.Auditor:
		if nu.Org != "" && !slices.Contains(nu.Scope, nu.Org) {
			nu.Scope = append(nu.Scope, nu.Org) // an auditor's org is part of its scope
		}
		nu.Org = ""
		if len(nu.Scope) == 0 {
			return problem.Field("scope", "an auditor needs at least one cooperative")
		}
		for _, c := range nu.Scope {
			if err := s.checkOrg(ctx, nu.Role, c); problem.CodeOf(err) == problem.NotFound {
				return problem.Field("scope", "no cooperative %q", c)
			} else if err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateUser adds a user. Admins only (the CLI passes an admin actor).
func (s *Service) CreateUser(ctx context.Context, actor access.Actor, nu NewUser) (User, error) {
	if err := actor.RequireAdmin(); err != nil {
		return User{}, err
	}
	if err := s.validate(ctx, &nu); err != nil {
		return User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(nu.Password), s.bcryptCost)
	if err != nil {
		return User{}, err
	}
	u := User{
		ID: id.New("usr"), Email: nu.Email, PasswordHash: hash,
		Role: nu.Role, Org: nu.Org, Scope: nu.Scope, CreatedAt: s.now().UTC(),
	}
	if err := s.store.insertUser(ctx, u); err != nil {
		return User{}, err
	}
	return u, nil
}

// System is the actor of the server itself (bootstrap, CLI, demo seed).
var System = access.Actor{UserID: "system", Role: access.Admin}

// EnsureFirstAdmin creates an admin with the given credentials when no user
// exists yet. It reports whether it created one.
func (s *Service) EnsureFirstAdmin(ctx context.Context, email, password string) (bool, error) {
	n, err := s.store.countUsers(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	_, err = s.CreateUser(ctx, System, NewUser{Email: email, Password: password, Role: access.Admin})
	if problem.CodeOf(err) == problem.Conflict {
		return false, nil // another instance won the race
	}
	return err == nil, err
}

// Users lists users by id.
func (s *Service) Users(ctx context.Context, actor access.Actor, page mongodb.Page) ([]User, error) {
	if err := actor.RequireAdmin(); err != nil {
		return nil, err
	}
	return s.store.users(ctx, page.Normalized())
}

// UserByEmail finds a user (the CLI and the demo seed use it).
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	return s.store.userByEmail(ctx, email)
}

// dummyHash is compared against when the email is unknown, so a wrong email
// costs as much time as a wrong password and does not reveal who has an account.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("terroir-dummy-password"), bcrypt.DefaultCost)

// Authenticate checks an email and password, counting failures per email and
// per client address. While either is over its limit every attempt fails with
// ErrThrottled, so guessing is slowed even with the right password.
func (s *Service) Authenticate(ctx context.Context, email, password, clientAddr string) (User, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return User{}, ErrBadCredentials
	}
	keys := []string{"email:" + norm, "addr:" + clientAddr}
	limits := []int{maxFailuresByEmail, maxFailuresByAddr}
	for i, k := range keys {
		n, err := s.store.recentFailures(ctx, k, s.now().Add(-throttleWindow))
		if err != nil {
			return User{}, err
		}
		if n >= limits[i] {
			return User{}, ErrThrottled
		}
	}
	u, err := s.store.userByEmail(ctx, norm)
	if err != nil {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return User{}, s.fail(ctx, keys, err)
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil {
		return User{}, s.fail(ctx, keys, ErrBadCredentials)
	}
	return u, nil
}

func (s *Service) fail(ctx context.Context, keys []string, cause error) error {
	if cause != ErrUserNotFound && cause != ErrBadCredentials {
		return cause
	}
	for _, k := range keys {
		if err := s.store.recordFailure(ctx, k, s.now(), throttleWindow); err != nil {
			return err
		}
	}
	return ErrBadCredentials
}

// Token is a stored credential: only the hash of the secret is kept.
type Token struct {
	Hash      string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	Kind      string    `bson:"kind"`
	CSRF      string    `bson:"csrf,omitempty"` // per-session CSRF secret
	ExpiresAt time.Time `bson:"expires_at"`
	CreatedAt time.Time `bson:"created_at"`
}

// RandomSecret returns n random bytes, base64url-encoded.
func RandomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// IssueToken creates a credential of the given kind for u, valid for ttl.
// It returns the secret (shown once, never stored) and the stored record.
func (s *Service) IssueToken(ctx context.Context, u User, kind string, ttl time.Duration) (string, Token, error) {
	secret := RandomSecret(32)
	now := s.now().UTC()
	t := Token{Hash: hashToken(secret), UserID: u.ID, Kind: kind, ExpiresAt: now.Add(ttl), CreatedAt: now}
	if kind == KindSession {
		t.CSRF = RandomSecret(24)
	}
	if err := s.store.insertToken(ctx, t); err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

// Resolve returns the user and token record for a secret of the given kind,
// or ErrBadCredentials when it is unknown, of another kind or expired.
func (s *Service) Resolve(ctx context.Context, secret, kind string) (User, Token, error) {
	if secret == "" || len(secret) > 128 {
		return User{}, Token{}, ErrBadCredentials
	}
	hash := hashToken(secret)
	c, err := s.resolved.Get(hash, func() (resolvedCredential, error) {
		t, err := s.store.token(ctx, hash)
		if err != nil {
			return resolvedCredential{}, err
		}
		u, err := s.store.user(ctx, t.UserID)
		return resolvedCredential{user: u, token: t}, err
	})
	if err != nil || c.token.Kind != kind || !s.now().Before(c.token.ExpiresAt) {
		return User{}, Token{}, ErrBadCredentials
	}
	return c.user, c.token, nil
}

// Revoke deletes a credential (logout).
func (s *Service) Revoke(ctx context.Context, secret string) error {
	hash := hashToken(secret)
	err := s.store.deleteToken(ctx, hash)
	s.resolved.Forget(hash) // even when the delete failed: it may have landed
	return err
}

// SweepExpired deletes expired tokens and old login failures; the embedded
// store has no TTL indexes, so a background loop calls this.
func (s *Service) SweepExpired(ctx context.Context) error {
	now := s.now()
	if err := s.store.deleteTokensBefore(ctx, now); err != nil {
		return err
	}
	return s.store.deleteFailuresBefore(ctx, now.Add(-throttleWindow))
}
