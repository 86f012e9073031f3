package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
)

// The demo network follows ../shared/CONTEXT.md: real places and
// organisations of the Souss-Massa-Drâa; the people are invented.

type demoCoop struct {
	coop    traceability.Cooperative
	members []traceability.Member
}

func m(name, gender, village string) traceability.Member {
	return traceability.Member{Name: name, Gender: gender, Village: village}
}

var demoCoops = []demoCoop{
	{traceability.Cooperative{Code: "SIROUA-SAFRAN", Name: "Coopérative Safran Siroua", Kind: "saffron",
		Commune: "Taliouine", Province: "Taroudannt", Group: "GIE Terroirs Solidaires (FIMASAFRAN)"},
		[]traceability.Member{m("Fatima Aït Brahim", "female", "Siroua"), m("Lahcen Oubella", "male", "Azaghar N'irs"),
			m("Khadija Id Ali", "female", "Tinzert"), m("Mohamed Amzil", "male", "Taliouine"), m("Aïcha Boutaleb", "female", "Siroua")}},
	{traceability.Cooperative{Code: "TIWIZWINE", Name: "Coopérative Tiwizwine (argan)", Kind: "argan",
		Commune: "Arbâa Sahel", Province: "Tiznit"},
		[]traceability.Member{m("Zahra Ouchen", "female", "Arbâa Sahel"), m("Malika Ait Lahcen", "female", "Assaki"),
			m("Rkia Elhaouz", "female", "Tiznit"), m("Hafsa Bouzid", "female", "Arbâa Sahel")}},
	{traceability.Cooperative{Code: "ALKAOUTAR", Name: "Coopérative Alkaoutar (PAMM)", Kind: "pamm",
		Commune: "Taroudannt", Province: "Taroudannt"},
		[]traceability.Member{m("Naima Ait Ouaziz", "female", "Tassousfi"), m("Brahim Oukhouya", "male", "Sidi Hssain"),
			m("Saadia Lamrani", "female", "Zagmouzen")}},
	{traceability.Cooperative{Code: "TIFAOUT", Name: "Coopérative Tifaout (PAMM)", Kind: "pamm",
		Commune: "Tagmoute", Province: "Tata"},
		[]traceability.Member{m("Itto Amellal", "female", "Tagmoute"), m("Mina Aït Said", "female", "Tasrirte"),
			m("Hassan Bikri", "male", "Tagmoute")}},
	{traceability.Cooperative{Code: "LALLA-YOUHANIDO", Name: "Coopérative Chaikha Lalla Youhanido (PAMM)", Kind: "pamm",
		Commune: "Aït Rkha", Province: "Tiznit"},
		[]traceability.Member{m("Tlaytmas Ouhmad", "female", "Aït Rkha"), m("Fadma Aznag", "female", "Aït Rkha")}},
	{traceability.Cooperative{Code: "OUZIOUA-OLIVE", Name: "Coopérative oléicole d'Ouzioua", Kind: "olive",
		Commune: "Ouzioua", Province: "Taroudannt"},
		[]traceability.Member{m("Abdellah Ait Taleb", "male", "Ouzioua"), m("Yamna Oubaha", "female", "Idergane"),
			m("Omar Ikhlef", "male", "Ouzioua")}},
	{traceability.Cooperative{Code: "TAFINGOULT-MIEL", Name: "Coopérative apicole de Tafingoult", Kind: "honey",
		Commune: "Tafingoulte", Province: "Taroudannt"},
		[]traceability.Member{m("Ahmed Oufkir", "male", "Tafingoulte"), m("Hadda Ait Hammou", "female", "Timlilt")}},
}

var demoShops = []shops.Shop{
	{Code: "TAROUDANNT", Name: "Boutique solidaire de Taroudannt", City: "Taroudannt", Currency: "MAD", Kind: shops.KindBoutique},
	{Code: "AGADIR", Name: "Boutique solidaire d'Agadir", City: "Agadir", Currency: "MAD", Kind: shops.KindBoutique},
	{Code: "CVT-TALIOUINE", Name: "Centre de valorisation de Taliouine", City: "Taliouine", Currency: "MAD", Kind: shops.KindBoutique},
	{Code: "EU-PLATFORM", Name: "Plateforme européenne de distribution", City: "France", Currency: "EUR", Kind: shops.KindPlatform},
}

// demoPassword is printed at start: the demo accounts are for trying the
// software on a laptop, never for a server reachable by others.
const demoPassword = "terroir-demo"

var demoUsers = []accounts.NewUser{
	{Email: "admin@terroir.demo", Role: access.Admin},
	{Email: "safran@terroir.demo", Role: access.CoopManager, Org: "SIROUA-SAFRAN"},
	{Email: "argan@terroir.demo", Role: access.CoopManager, Org: "TIWIZWINE"},
	{Email: "pamm@terroir.demo", Role: access.CoopManager, Org: "TIFAOUT"},
	{Email: "taroudannt@terroir.demo", Role: access.ShopManager, Org: "TAROUDANNT"},
	{Email: "plateforme@terroir.demo", Role: access.ShopManager, Org: "EU-PLATFORM"},
	{Email: "auditeur@terroir.demo", Role: access.Auditor, Scope: []string{"SIROUA-SAFRAN", "TIWIZWINE"}},
}

// seedDemo adds the demo network. It is idempotent: what exists is left as
// it is, so seeding twice duplicates nothing.
func seedDemo(ctx context.Context, a *app, out io.Writer) (string, error) {
	sys := accounts.System
	fresh := false
	for _, dc := range demoCoops {
		_, err := a.trace.CreateCooperative(ctx, sys, dc.coop)
		if errors.Is(err, traceability.ErrCooperativeExists) {
			continue // members were added when it was created
		}
		if err != nil {
			return "", fmt.Errorf("cooperative %s: %w", dc.coop.Code, err)
		}
		fresh = true
		for _, mb := range dc.members {
			if _, err := a.trace.AddMember(ctx, sys, dc.coop.Code, mb); err != nil {
				return "", fmt.Errorf("member %s: %w", mb.Name, err)
			}
		}
	}
	for _, sh := range demoShops {
		if _, err := a.shops.CreateShop(ctx, sys, sh); err != nil && !errors.Is(err, shops.ErrShopExists) {
			return "", fmt.Errorf("shop %s: %w", sh.Code, err)
		}
	}
	fmt.Fprintf(out, "Demo accounts (password %q):\n", demoPassword)
	for _, nu := range demoUsers {
		nu.Password = demoPassword
		nu.Scope = append([]string(nil), nu.Scope...)
		if _, err := a.accounts.CreateUser(ctx, sys, nu); err != nil && !errors.Is(err, accounts.ErrUserExists) {
			return "", fmt.Errorf("user %s: %w", nu.Email, err)
		}
		org := nu.Org
		if len(nu.Scope) > 0 {
			org = fmt.Sprint(nu.Scope)
		}
		fmt.Fprintf(out, "  %-26s %-13s %s\n", nu.Email, nu.Role, org)
	}
	if !fresh {
		jars, err := a.trace.Lots(ctx, sys, "SIROUA-SAFRAN", mongodb.Page{Limit: 20})
		if err != nil {
			return "", err
		}
		for _, l := range jars {
			if l.Source == traceability.SourcePacking {
				return l.Code, nil
			}
		}
		return "", nil
	}
	return seedDemoRecords(ctx, a)
}

func seed(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg := configFrom(getenv)
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.storeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx := context.Background()
	a, err := openApp(ctx, cfg, newLogger(io.Discard))
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer a.close()
	if _, err := seedDemo(ctx, a, stdout); err != nil {
		return errorf(stderr, "demo seed: %v", err)
	}
	return 0
}
