package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/web"
	"github.com/terroir-coop/terroir/web/webtest"
)

// csrfForms are fields a form route would accept, so that a route that
// skipped the CSRF check would write and be caught by the counts.
func csrfForms(w world) map[string]url.Values {
	return map[string]url.Values{
		"POST /admin/cooperatives":           {"code": {"CSRF1"}, "name": {"Coop"}, "kind": {"argan"}, "commune": {"Tiznit"}, "province": {"Tiznit"}},
		"POST /admin/shops":                  {"code": {"CSRFSHOP"}, "name": {"Boutique"}, "city": {"Agadir"}, "currency": {"MAD"}, "kind": {"boutique"}},
		"POST /admin/users":                  {"email": {"csrf@coop.ma"}, "password": {webtest.Password}, "role": {"coop_manager"}, "org": {"SIROUA"}},
		"POST /coop/:coop/members":           {"name": {"Aicha"}, "gender": {"female"}, "village": {"Askaoun"}},
		"POST /coop/:coop/lots":              {"product_kind": {"saffron"}, "harvests": {w.harvest}},
		"POST /cart/add":                     {"sku": {"SAF-1G"}, "units": {"1"}},
		"POST /till/:shop":                   {"sku": {"SAF-1G"}, "units": {"1"}, "payment": {"cash"}},
		"POST /shop-admin/:shop/receipts":    {"lot": {w.packed}, "units": {"1"}},
		"POST /shop-admin/:shop/adjustments": {"lot": {w.packed}, "units": {"1"}, "kind": {"loss"}},
	}
}

// TestEveryFormRefusesMissingOrForgedCSRF posts to every HTML POST route of
// the router, as a user allowed to use it, once without the csrf field and
// once with a forged one: 403 and nothing written, each time. POST /login
// is asked anonymously (its token is a double-submit cookie), and the
// public cart and checkout forms anonymously as well.
func TestEveryFormRefusesMissingOrForgedCSRF(t *testing.T) {
	w := newWorld(t)
	e := w.e
	adminB := newBrowser(t, e)
	adminB.loginAs(webtest.AdminEmail)
	shopB := newBrowser(t, e)
	shopB.loginAs(emailShopS)
	forms := csrfForms(w)
	asked := 0
	for _, route := range web.Routes(e.Web) {
		key := route.Method + " " + route.Path
		if route.Method != http.MethodPost || strings.HasPrefix(route.Path, "/api/") {
			continue
		}
		allowed, ok := accessRules[key]
		if !ok {
			t.Errorf("%s has no rule in accessRules", key)
			continue
		}
		type asker struct {
			who string
			b   *browser
		}
		var askers []asker
		switch {
		case route.Path == "/login":
			askers = []asker{{"anonymous", newBrowser(t, e)}}
		case contains(allowed, anon):
			askers = []asker{{"anonymous", newBrowser(t, e)}, {"admin", adminB}}
		case contains(allowed, admin):
			askers = []asker{{"admin", adminB}}
		case contains(allowed, shopS):
			askers = []asker{{"shop manager", shopB}}
		default:
			t.Errorf("%s: no role of the test may use it", key)
			continue
		}
		path := w.fill(route.Path)
		for _, a := range askers {
			// The visitor has the page's cookies (and an anonymous one the
			// double-submit cookie) but not the token.
			a.b.get("/login")
			if route.Path == "/login" {
				forms[key] = url.Values{"email": {webtest.AdminEmail}, "password": {webtest.Password}}
			}
			for _, forged := range []string{"", "forged-token-0123456789abcdef"} {
				form := url.Values{}
				for k, v := range forms[key] {
					form[k] = v
				}
				if forged != "" {
					form.Set("csrf", forged)
				}
				before := fmt.Sprint(counts(t, e))
				resp, _ := a.b.post(path, form)
				asked++
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s as %s with csrf %q: %d %s, want 403", key, a.who, forged, resp.StatusCode, resp.Header.Get("Location"))
				}
				if after := fmt.Sprint(counts(t, e)); after != before {
					t.Errorf("%s as %s with csrf %q wrote: %s → %s", key, a.who, forged, before, after)
				}
				for _, c := range resp.Cookies() {
					if c.Name == "terroir_cart" || c.Name == "terroir_session" {
						t.Errorf("%s as %s with csrf %q set cookie %s", key, a.who, forged, c.Name)
					}
				}
			}
		}
	}
	if asked < 2*30 {
		t.Fatalf("only %d posts asked: the sweep missed routes", asked)
	}
	// The sessions still work: nothing above logged anyone out.
	if resp, _ := adminB.get("/admin"); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin session after the sweep: %d", resp.StatusCode)
	}
}
