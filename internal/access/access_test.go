package access

import (
	"errors"
	"testing"
)

func TestRules(t *testing.T) {
	admin := Actor{UserID: "1", Role: Admin}
	coopA := Actor{UserID: "2", Role: CoopManager, Org: "A"}
	shop := Actor{UserID: "3", Role: ShopManager, Org: "TRD"}
	auditor := Actor{UserID: "4", Role: Auditor, Scope: []string{"A"}}
	anon := Actor{}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"admin manages any coop", admin.ManageCoop("B"), nil},
		{"manager manages own coop", coopA.ManageCoop("A"), nil},
		{"manager cannot manage another coop", coopA.ManageCoop("B"), ErrForbidden},
		{"auditor reads in scope", auditor.ReadCoop("A"), nil},
		{"auditor cannot read out of scope", auditor.ReadCoop("B"), ErrForbidden},
		{"auditor cannot manage", auditor.ManageCoop("A"), ErrForbidden},
		{"anonymous is unauthorized", anon.ReadCoop("A"), ErrUnauthorized},
		{"shop manager manages own shop", shop.ManageShop("TRD"), nil},
		{"shop manager not another shop", shop.ManageShop("AGA"), ErrForbidden},
		{"admin does not operate a till", admin.OperateShop("TRD"), ErrForbidden},
		{"only admin is admin", coopA.RequireAdmin(), ErrForbidden},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}
