package web_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/web"
)

// Roles of the authorization matrix.
const (
	anon = iota
	admin
	managerA
	managerB
	shopS
	auditorA
	roleCount
)

var roleNames = [roleCount]string{"anonymous", "admin", "coop_manager A", "coop_manager B", "shop_manager S", "auditor A"}

// Who may use a route: the roles allowed. Everyone else is denied.
var (
	public     = []int{anon, admin, managerA, managerB, shopS, auditorA}
	signedIn   = []int{admin, managerA, managerB, shopS, auditorA}
	adminOnly  = []int{admin}
	manageA    = []int{admin, managerA}
	readA      = []int{admin, managerA, auditorA}
	ownerShopS = []int{admin, shopS}
	// The cooperatives' list is for the people of the network's records;
	// shops and products are on the public catalogue anyway.
	coopsList = []int{admin, managerA, managerB, auditorA}
	// Till sales and transfers are made by the shop's own manager only
	// (API.md), not by the admin.
	shopOnly = []int{shopS}
	// Credentials routes answer 401 for wrong credentials to anyone: any
	// answer is right for the matrix.
	credentials = []int{-1}
	// HEAD and OPTIONS of the public GS1 resolver paths (issue 13) answer
	// anyone, without session; the matrix asks only GET and POST, and
	// resolver_test.go checks these through HTTP.
	resolverMethods = []int{-1}
)

// knownGaps are role × route pairs where the answer is not yet the access
// decision. None today: keep the mechanism for the next one found.
var knownGaps = map[string]int{}

// accessRules is the expected access decision of every route, keyed by
// "METHOD path" as the router spells it. A route missing here fails
// TestAuthorizationMatrix, so a new route cannot ship without a rule.
var accessRules = map[string][]int{
	"GET /":                                     public,
	"GET /check":                                public,
	"GET /favicon.ico":                          public,
	"GET /.well-known/gs1resolver":              public,
	"GET /.well-known/gs1resolver.json":         public,
	"GET /01/:gtin/10/:lot":                     public,
	"GET /01/:gtin/10/:lot/21/:serial":          public,
	"GET /t/:lot":                               public,
	"GET /healthz":                              public,
	"GET /readyz":                               public,
	"GET /metrics":                              public,
	"GET /static/*path":                         public,
	"GET /harvest-sw.js":                        public, // the offline harvest page's service worker (issue 19)
	"GET /login":                                public,
	"POST /login":                               credentials,
	"POST /logout":                              public,
	"GET /plausibility":                         public,
	"GET /api/v1/openapi.json":                  public,
	"GET /api/v1/plausibility":                  public,
	"GET /api/v1/catalog":                       public,
	"GET /api/v1/trace/:code":                   public,
	"POST /api/v1/auth/token":                   credentials,
	"POST /api/v1/orders":                       public,
	"POST /api/v1/stripe/webhook":               public,
	"GET /api/v1/me":                            signedIn,
	"GET /api/v1/cooperatives":                  coopsList,
	"GET /api/v1/shops":                         public,
	"GET /api/v1/products":                      public,
	"GET /api/v1/products/:sku":                 public,
	"GET /api/v1/shops/:shop":                   public,
	"GET /api/v1/cooperatives/:coop":            readA,
	"GET /api/v1/certifications/:id":            readA,
	"GET /admin":                                adminOnly,
	"POST /admin/cooperatives":                  adminOnly,
	"POST /admin/shops":                         adminOnly,
	"POST /admin/users":                         adminOnly,
	"GET /api/v1/users":                         adminOnly,
	"GET /api/v1/admin/backup":                  adminOnly,
	"POST /api/v1/users":                        adminOnly,
	"POST /api/v1/cooperatives":                 adminOnly,
	"POST /api/v1/shops":                        adminOnly,
	"POST /api/v1/products":                     adminOnly,
	"POST /api/v1/certifications":               adminOnly,
	"POST /api/v1/certifications/:id/status":    adminOnly,
	"PUT /api/v1/products/:sku/shares/:channel": adminOnly,
	"POST /api/v1/cooperatives/:coop/advances":  adminOnly,
	"POST /api/v1/cooperatives/:coop/payouts":   adminOnly,
	"POST /api/v1/cooperatives/:coop/statements/:month/close": adminOnly,
	"GET /api/v1/orders/:id":                                  adminOnly, // or the customer's token, or the EU platform's manager
	"GET /api/v1/orders/:id/packing-list":                     adminOnly,
	"POST /api/v1/orders/:id/cancel":                          adminOnly,
	"POST /api/v1/orders/:id/deliver":                         adminOnly,
	"POST /api/v1/orders/:id/refund":                          adminOnly,
	"POST /api/v1/orders/:id/ship":                            adminOnly,
	"GET /api/v1/cooperatives/:coop/statements/:month":        readA,
	"GET /api/v1/cooperatives/:coop/certifications":           readA,
	"GET /api/v1/cooperatives/:coop/flags":                    readA,
	"GET /api/v1/cooperatives/:coop/harvests":                 readA,
	"GET /api/v1/cooperatives/:coop/holdings":                 readA,
	"GET /api/v1/cooperatives/:coop/lots":                     readA,
	"GET /api/v1/cooperatives/:coop/mass-balance":             readA,
	"GET /api/v1/cooperatives/:coop/members":                  readA,
	"GET /api/v1/cooperatives/:coop/parcels":                  readA,
	"GET /api/v1/cooperatives/:coop/scan-alerts":              readA,
	"GET /api/v1/lots/:code":                                  readA,
	"GET /api/v1/lots/:code/epcis":                            readA,
	"GET /api/v1/lots/:code/labels.pdf":                       manageA,
	"GET /api/v1/lots/:code/qr.png":                           readA, // API.md says owner and admin; the auditor may too (it only encodes the public trace URL)
	"POST /api/v1/cooperatives/:coop/harvests":                manageA,
	"POST /api/v1/cooperatives/:coop/harvests/import":         manageA,
	"POST /api/v1/cooperatives/:coop/imports":                 manageA, // register imports (issue 19)
	"POST /api/v1/cooperatives/:coop/lots":                    manageA,
	"POST /api/v1/cooperatives/:coop/members":                 manageA,
	"POST /api/v1/cooperatives/:coop/packings":                manageA,
	"POST /api/v1/cooperatives/:coop/parcels":                 manageA,
	"POST /api/v1/cooperatives/:coop/transformations":         manageA,
	"POST /api/v1/lots/:code/flags/:flag/justification":       manageA,
	"GET /api/v1/shops/:shop/movements":                       ownerShopS,
	"GET /api/v1/shops/:shop/orders":                          ownerShopS,
	"GET /api/v1/shops/:shop/outbox":                          ownerShopS,
	"GET /api/v1/shops/:shop/sales/:id":                       ownerShopS,
	"GET /api/v1/shops/:shop/shelves":                         ownerShopS,
	"GET /api/v1/shops/:shop/stock":                           ownerShopS,
	"GET /api/v1/shops/:shop/transfers":                       ownerShopS,
	"POST /api/v1/shops/:shop/adjustments":                    ownerShopS,
	"POST /api/v1/shops/:shop/counts":                         ownerShopS,
	"POST /api/v1/shops/:shop/receipts":                       ownerShopS,
	"POST /api/v1/shops/:shop/returns":                        ownerShopS,
	"POST /api/v1/shops/:shop/sales":                          shopOnly,
	"POST /api/v1/shops/:shop/transfers":                      shopOnly,
	"POST /api/v1/shops/:shop/transfers/:id/receive":          shopOnly,
	"PUT /api/v1/products/:sku/prices/:channel":               ownerShopS,
	"PUT /api/v1/shops/:shop/thresholds/:sku":                 ownerShopS,
	"GET /coop/:coop":                                         readA,
	"GET /coop/:coop/harvests":                                readA,
	"GET /coop/:coop/lots":                                    readA,
	"GET /coop/:coop/parcels":                                 readA,
	"GET /lots/:code":                                         readA,
	"GET /audit/:coop":                                        readA,
	"GET /audit/:coop/mass-balance.csv":                       readA,
	"POST /coop/:coop/harvests":                               manageA,
	"POST /coop/:coop/harvests/import":                        manageA,
	"GET /coop/:coop/import":                                  manageA, // register imports (issue 19)
	"POST /coop/:coop/import":                                 manageA,
	"GET /coop/:coop/harvests/offline":                        manageA,
	"POST /coop/:coop/harvests/outbox":                        manageA,
	"POST /coop/:coop/lots":                                   manageA,
	"POST /coop/:coop/members":                                manageA,
	"POST /coop/:coop/packings":                               manageA,
	"POST /coop/:coop/parcels":                                manageA,
	"POST /coop/:coop/transformations":                        manageA,
	"POST /lots/:code/flags/:flag/justification":              manageA,
	// Public catalogue, photos and the customer's cart and checkout.
	"GET /shop/:channel":      public,
	"GET /shop/:channel/:sku": public,
	"GET /photos/:file":       public,
	"GET /cart":               public,
	"GET /checkout":           public,
	"POST /cart/add":          public,
	"POST /cart/update":       public,
	"POST /cart/remove":       public,
	"POST /checkout":          public,
	// An order page without its token: the channel's manager and the admin.
	"GET /orders/:id":                              adminOnly,
	"POST /api/v1/products/:sku/photo":             manageA,
	"GET /coop/:coop/holdings":                     readA,
	"GET /coop/:coop/statements":                   readA,
	"GET /coop/:coop/statements/:month":            readA,
	"GET /till/:shop":                              shopOnly,
	"POST /till/:shop":                             shopOnly,
	"GET /till/:shop/receipts/:id":                 ownerShopS,
	"GET /shop-admin/:shop":                        ownerShopS,
	"GET /shop-admin/:shop/movements":              ownerShopS,
	"GET /shop-admin/:shop/count":                  ownerShopS,
	"POST /shop-admin/:shop/count":                 ownerShopS,
	"POST /shop-admin/:shop/thresholds":            ownerShopS,
	"POST /shop-admin/:shop/receipts":              ownerShopS,
	"POST /shop-admin/:shop/adjustments":           ownerShopS,
	"POST /shop-admin/:shop/transfers":             shopOnly,
	"POST /shop-admin/:shop/transfers/:id/receive": shopOnly,
	"GET /platform/:shop":                          ownerShopS,
	"GET /platform/:shop/outbox":                   ownerShopS,
	"GET /platform/:shop/orders/:id":               ownerShopS,
	"POST /platform/:shop/orders/:id/ship":         ownerShopS,
	"POST /platform/:shop/orders/:id/deliver":      ownerShopS,
	"POST /platform/:shop/orders/:id/cancel":       ownerShopS,
	"POST /platform/:shop/orders/:id/refund":       ownerShopS,
	// Settlement: the admin closes a month from its statement page (issue 14).
	"POST /coop/:coop/statements/:month/close": adminOnly,
	// Fair stock: the admin or an online platform's manager (S is a boutique).
	"PUT /api/v1/products/:sku/unpaid-limit": adminOnly,
	// Members' pay (issue 17): the cooperative's manager and the admin
	// write, its auditor reads; the impact report is the network's.
	"GET /api/v1/cooperatives/:coop/member-statements":                 readA,
	"GET /api/v1/cooperatives/:coop/member-statements/:month":          readA,
	"GET /api/v1/cooperatives/:coop/members/:member/statements/:month": readA,
	"GET /api/v1/cooperatives/:coop/members/:member/seasons/:season":   readA,
	"GET /api/v1/cooperatives/:coop/member-terms":                      readA,
	"GET /api/v1/cooperatives/:coop/member-payouts":                    readA,
	"PUT /api/v1/cooperatives/:coop/retention":                         manageA,
	"POST /api/v1/cooperatives/:coop/retention":                        manageA,
	"POST /api/v1/cooperatives/:coop/rates":                            manageA,
	"PUT /api/v1/cooperatives/:coop/rates/:month":                      manageA,
	"POST /api/v1/cooperatives/:coop/member-payouts":                   manageA,
	"GET /api/v1/impact":                                               {admin, auditorA},
	"GET /api/v1/lots/:code/shares":                                    readA,
	"GET /coop/:coop/pay":                                              readA,
	"GET /coop/:coop/pay/:month":                                       readA,
	"GET /coop/:coop/pay/:month/members/:member":                       readA,
	"GET /coop/:coop/payouts/new":                                      manageA,
	"POST /coop/:coop/pay/retention":                                   manageA,
	"POST /coop/:coop/pay/rates":                                       manageA,
	"POST /coop/:coop/payouts":                                         manageA,
	"GET /impact":                                                      {admin, auditorA},
	"GET /impact.csv":                                                  {admin, auditorA},

	// GS1 resolver HEAD and OPTIONS (issue 13).
	"HEAD /01/:gtin/10/:lot":                resolverMethods,
	"HEAD /01/:gtin/10/:lot/21/:serial":     resolverMethods,
	"HEAD /.well-known/gs1resolver":         resolverMethods,
	"HEAD /.well-known/gs1resolver.json":    resolverMethods,
	"OPTIONS /01/:gtin/10/:lot":             resolverMethods,
	"OPTIONS /01/:gtin/10/:lot/21/:serial":  resolverMethods,
	"OPTIONS /.well-known/gs1resolver":      resolverMethods,
	"OPTIONS /.well-known/gs1resolver.json": resolverMethods,
	"GET /01/:gtin/10/:lot/":                public,
	"GET /01/:gtin/10/:lot/21/:serial/":     public,
	"HEAD /01/:gtin/10/:lot/":               resolverMethods,
	"HEAD /01/:gtin/10/:lot/21/:serial/":    resolverMethods,
	"OPTIONS /01/:gtin/10/:lot/":            resolverMethods,
	"OPTIONS /01/:gtin/10/:lot/21/:serial/": resolverMethods,
	// Quality (issue 18): laboratory results, evidence files, consignments.
	"POST /api/v1/lots/:code/lab-results":           manageA,
	"GET /api/v1/lots/:code/lab-results":            readA,
	"GET /api/v1/lots/:code/lab-results/:id/report": readA,
	"POST /lots/:code/lab-results":                  manageA,
	"GET /lots/:code/lab-results/:id/report":        readA,
	"GET /api/v1/cooperatives/:coop/evidence":       readA,
	"POST /api/v1/cooperatives/:coop/evidence":      readA,
	"GET /api/v1/lots/:code/evidence":               readA,
	"POST /api/v1/lots/:code/evidence":              readA,
	"GET /api/v1/evidence-jobs/:id":                 readA, // a job of A's (404 for others)
	"GET /api/v1/evidence-jobs/:id/file":            readA,
	"POST /audit/:coop/evidence":                    readA,
	"GET /audit/:coop/evidence/:id/file":            readA,
	"POST /api/v1/consignments":                     signedIn, // the cooperative is in the body: {} is 400 for all; TestConsignmentsThroughHTTP checks the roles
	"POST /api/v1/cooperatives/:coop/consignments":  manageA,
	"GET /api/v1/cooperatives/:coop/consignments":   readA,
	"GET /api/v1/consignments/:id":                  readA, // and the destination's manager
	"GET /api/v1/consignments/:id/sheet.csv":        readA,
	"GET /api/v1/consignments/:id/sheet.pdf":        readA,
	"POST /api/v1/consignments/:id/coi":             manageA,
	"GET /coop/:coop/consignments":                  readA,
	"POST /coop/:coop/consignments":                 manageA,
	"GET /coop/:coop/consignments/:id":              readA,
	"POST /coop/:coop/consignments/:id/coi":         manageA,
	"GET /coop/:coop/consignments/:id/sheet.csv":    readA,
	"GET /coop/:coop/consignments/:id/sheet.pdf":    readA,

	// Issue 10: corrections as events, the season's EPCIS.
	"POST /api/v1/cooperatives/:coop/harvests/:id/corrections": manageA,
	"POST /api/v1/lots/:code/corrections":                      manageA,
	"POST /coop/:coop/harvests/corrections":                    manageA,
	"POST /lots/:code/corrections":                             manageA,
	"GET /api/v1/cooperatives/:coop/epcis":                     readA,
	"GET /api/v1/plausibility/graph":                           public,
}

// TestAuthorizationMatrix asks every route of the router as every role and
// checks the access decision only (not the answer's body): allowed is
// anything but 401 and 403 (and, for pages, a redirect to the login form);
// denied is 401 for an anonymous API caller, a redirect to /login, 401 or
// 403 for an anonymous page visitor, and 403 or 404 for anyone else. The
// API is called with bearer tokens, the pages with a logged-in browser
// session and its CSRF token.
func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	e := w.e
	tokens := [roleCount]string{anon: "", admin: e.AdminToken, managerA: w.a.manager, managerB: w.managerB, shopS: w.shopS, auditorA: w.auditorA}
	emails := [roleCount]string{admin: "admin@test.terroir", managerA: emailManagerA, managerB: emailManagerB, shopS: emailShopS, auditorA: emailAuditorA}
	var browsers [roleCount]*browser
	var csrf [roleCount]string
	for r := range roleCount {
		browsers[r] = newBrowser(t, e)
		if r != anon {
			browsers[r].loginAs(emails[r])
		}
		_, page := browsers[r].get("/login")
		if r != anon {
			_, page = browsers[r].get("/")
		}
		csrf[r] = csrfOf(t, page)
	}
	routes := web.Routes(e.Web)
	// Logging out ends the browser's session: ask it last.
	sort.SliceStable(routes, func(i, j int) bool { return routes[j].Path == "/logout" && routes[i].Path != "/logout" })
	for _, route := range routes {
		key := route.Method + " " + route.Path
		allowed, ok := accessRules[key]
		if !ok {
			t.Errorf("%s has no rule in accessRules: add one", key)
			continue
		}
		if allowed[0] == -1 {
			continue
		}
		path := w.fill(route.Path)
		api := strings.HasPrefix(route.Path, "/api/")
		for r := range roleCount {
			var (
				status int
				loc    string
			)
			switch {
			case api:
				var body []byte
				if route.Method != http.MethodGet {
					body = []byte("{}")
				}
				resp, _ := e.Do(route.Method, path, tokens[r], body)
				status = resp.StatusCode
			case route.Method == http.MethodGet:
				resp, _ := browsers[r].get(path)
				status, loc = resp.StatusCode, resp.Header.Get("Location")
			default:
				resp, _ := browsers[r].post(path, url.Values{"csrf": {csrf[r]}})
				status, loc = resp.StatusCode, resp.Header.Get("Location")
			}
			if gap, ok := knownGaps[key]; ok && gap == r {
				continue
			}
			toLogin := (status == http.StatusSeeOther || status == http.StatusFound) && strings.HasPrefix(loc, "/login")
			refused := status == 401 || status == 403 || toLogin
			want := contains(allowed, r)
			switch {
			case want && refused:
				t.Errorf("%s as %s: %d %s, want allowed", key, roleNames[r], status, loc)
			case !want && r == anon && api && status != 401:
				t.Errorf("%s as anonymous: %d, want 401", key, status)
			case !want && r == anon && !api && !refused:
				t.Errorf("%s as anonymous: %d %s, want a redirect to /login, 401 or 403", key, status, loc)
			case !want && r != anon && status != 403 && status != 404:
				t.Errorf("%s as %s: %d %s, want 403 or 404", key, roleNames[r], status, loc)
			}
		}
	}
}

func contains(roles []int, r int) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}
