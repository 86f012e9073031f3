package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/web/webtest"
)

// loginChrome logs a browser in through the form.
func loginChrome(t *testing.T, ctx context.Context, e *webtest.Env, email string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL("/login")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.Password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		// The login page has a heading too: wait for the signed-in header.
		chromedp.WaitVisible(chromedp.CSS(`header .who`)),
	)
	if err != nil {
		t.Fatalf("log in as %s: %v", email, err)
	}
}

// TestBrowserMembersPayFitsThePhone opens the members' pay pages and the
// impact report on a phone, in French and in Arabic (right to left), and
// checks that none scrolls sideways.
func TestBrowserMembersPayFitsThePhone(t *testing.T) {
	f := newMembersFixture(t)
	e := f.e
	ctx := newChrome(t)
	loginChrome(t, ctx, e, "siroua@coop.ma")
	for _, p := range []struct{ path, lang, name string }{
		{"/coop/SIROUA/pay/2025-11", "fr", "pay-fr"},
		{"/coop/SIROUA/pay/2025-11", "ar", "pay-ar"},
		{"/coop/SIROUA/pay/2025-11/members/" + f.fatima, "ar", "slip-ar"},
		{"/coop/SIROUA/payouts/new", "fr", "payout-fr"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(e.URL(p.path+"?lang="+p.lang)), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		dir, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dir`))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"fr": "ltr", "ar": "rtl"}[p.lang]; dir != want {
			t.Errorf("%s: dir %q, want %q", p.name, dir, want)
		}
		fitsThePhone(t, ctx)
		screenshot(t, ctx, p.name)
	}
	admin := newChrome(t)
	loginChrome(t, admin, e, webtest.AdminEmail)
	for _, lang := range []string{"fr", "ar"} {
		if err := chromedp.Do(admin, chromedp.Navigate(e.URL("/impact?season=2025&lang="+lang)), chromedp.WaitVisible(chromedp.CSS(`#charts svg`))); err != nil {
			t.Fatalf("impact %s: %v", lang, err)
		}
		fitsThePhone(t, admin)
		screenshot(t, admin, "impact-"+lang)
	}
}
