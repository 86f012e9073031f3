package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestHomeLeadsSomewhere: the home page offers the shops (the platform
// first), "check a code" and the sign-in to an anonymous visitor, in the
// visitor's language; a typed code opens its trace page; an empty one is
// refused in French; after signing in, the platform's manager lands on the
// orders to pack and a signed-in visitor's home leads to her work.
func TestHomeLeadsSomewhere(t *testing.T) {
	e := webtest.New(t)
	for _, sh := range []map[string]string{
		{"code": "TAROUDANNT", "name": "Boutique solidaire de Taroudannt", "city": "Taroudannt", "currency": "MAD", "kind": "boutique"},
		{"code": "EU-PLATFORM", "name": "Plateforme de distribution UE", "city": "Marseille", "currency": "EUR", "kind": "platform"},
	} {
		if st := e.JSON("POST", "/api/v1/shops", e.AdminToken, sh, nil); st != 201 {
			t.Fatalf("shop %s: %d", sh["code"], st)
		}
	}
	b := newBrowser(t, e)
	resp, page := b.get("/?lang=fr")
	if resp.StatusCode != 200 {
		t.Fatalf("home: %d", resp.StatusCode)
	}
	for _, want := range []string{`href="/shop/EU-PLATFORM"`, `href="/shop/TAROUDANNT"`, `action="/check"`, `href="/login"`, "Vérifier un code"} {
		if !strings.Contains(page, want) {
			t.Errorf("the home page lacks %s", want)
		}
	}
	if strings.Index(page, `href="/shop/EU-PLATFORM"`) > strings.Index(page, `href="/shop/TAROUDANNT"`) {
		t.Error("the platform is not listed first")
	}
	if _, ar := b.get("/?lang=ar"); !strings.Contains(ar, "التحقق من رمز") || !strings.Contains(ar, `dir="rtl"`) {
		t.Error("the Arabic home page is not in Arabic")
	}

	code, err := traceability.NewLotCode("saffron_dried")
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = b.get("/check?code=+" + url.QueryEscape(strings.ToLower(code)) + "+")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/t/"+code {
		t.Fatalf("a typed code: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = b.get("/check?code=&lang=fr")
	if resp.StatusCode != 400 || !strings.Contains(page, "tapez le code imprimé sous le QR code") {
		t.Fatalf("an empty code: %d, no French message", resp.StatusCode)
	}
	typo := code[:len(code)-1] + map[bool]string{true: "2", false: "3"}[code[len(code)-1] != '2'] // the check character wrong
	resp, page = b.get("/check?lang=fr&code=" + url.QueryEscape(typo))
	if resp.StatusCode != 400 || !strings.Contains(page, "vérifiez chaque caractère") || !strings.Contains(page, `value="`+typo+`"`) {
		t.Fatalf("a mistyped code: %d, no French message or the code not kept", resp.StatusCode)
	}

	e.User("eu@plateforme.fr", access.ShopManager, "EU-PLATFORM")
	e.User("caisse@taroudannt.ma", access.ShopManager, "TAROUDANNT")
	for email, want := range map[string]string{"eu@plateforme.fr": "/platform/EU-PLATFORM", "caisse@taroudannt.ma": "/shop-admin/TAROUDANNT", webtest.AdminEmail: "/admin"} {
		b := newBrowser(t, e)
		_, login := b.get("/login")
		resp, _ := b.post("/login", map[string][]string{"csrf": {csrfOf(t, login)}, "email": {email}, "password": {webtest.Password}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("%s lands on %q, want %s", email, resp.Header.Get("Location"), want)
		}
		if _, home := b.get("/"); !strings.Contains(home, `href="`+want+`"`) || strings.Contains(home, `class="button" href="/login"`) {
			t.Errorf("%s's home does not lead to %s", email, want)
		}
	}
}
