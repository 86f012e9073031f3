// Package access says who is acting and what they may touch. Domain services
// take an Actor as an explicit parameter and ask it before reading or writing
// a tenant's data; templates and handlers never decide access themselves.
//
// Roles: an admin manages the whole network; a coop_manager manages one
// cooperative (Org); a shop_manager manages one shop or the platform channel
// (Org); an auditor reads, and never writes, the cooperatives in its Scope.
package access

import (
	"errors"
	"slices"

	"github.com/terroir-coop/terroir/internal/problem"
)

// Role is what a user may do.
type Role string

// The roles.
const (
	Admin       Role = "admin"
	CoopManager Role = "coop_manager"
	ShopManager Role = "shop_manager"
	Auditor     Role = "auditor"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	switch r {
	case Admin, CoopManager, ShopManager, Auditor:
		return true
	}
	return false
}

// Actor is the authenticated user on whose behalf a call is made. The zero
// Actor is anonymous.
type Actor struct {
	UserID string
	Email  string
	Role   Role
	Org    string   // cooperative code (coop_manager) or shop code (shop_manager)
	Scope  []string // cooperative codes an auditor may read
}

// Anonymous reports whether no one is logged in.
func (a Actor) Anonymous() bool { return a.UserID == "" }

// ErrForbidden is returned when an actor may not do what it asked.
var ErrForbidden = problem.New(problem.Forbidden, "you are not allowed to do this")

// ErrUnauthorized is returned when a call needs a logged-in actor.
var ErrUnauthorized = problem.New(problem.Unauthorized, "authentication required")

func (a Actor) check(ok bool) error {
	switch {
	case a.Anonymous():
		return ErrUnauthorized
	case !ok:
		return ErrForbidden
	}
	return nil
}

// RequireAdmin allows admins only.
func (a Actor) RequireAdmin() error { return a.check(a.Role == Admin) }

// ManageCoop allows the admin and the cooperative's own manager.
func (a Actor) ManageCoop(coop string) error {
	return a.check(a.Role == Admin || (a.Role == CoopManager && a.Org == coop))
}

// ReadCoop allows those who manage the cooperative and auditors in scope.
func (a Actor) ReadCoop(coop string) error {
	return a.check(a.Role == Admin ||
		(a.Role == CoopManager && a.Org == coop) ||
		(a.Role == Auditor && slices.Contains(a.Scope, coop)))
}

// ManageShop allows the admin and the shop's own manager.
func (a Actor) ManageShop(shop string) error {
	return a.check(a.Role == Admin || (a.Role == ShopManager && a.Org == shop))
}

// OperateShop allows only the shop's own manager: selling and transferring
// are acts of the person at the till, not of the network admin.
func (a Actor) OperateShop(shop string) error {
	return a.check(a.Role == ShopManager && a.Org == shop)
}

// IsForbidden reports whether err is ErrForbidden.
func IsForbidden(err error) bool { return errors.Is(err, ErrForbidden) }
