package web_test

import (
	"context"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/web/webtest"
)

// TestBrowserLoginShowsAdminPage logs in as a person would, on a phone-sized
// screen, and checks what they see in French and then in Arabic.
func TestBrowserLoginShowsAdminPage(t *testing.T) {
	e := webtest.New(t)
	ctx := newChrome(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL("/login")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), webtest.AdminEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.Password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		// Only the admin page has sections with h2 headings; the login
		// page has none, so this waits for the page after the redirect.
		chromedp.WaitVisible(chromedp.CSS(`section.card h2`)),
	)
	if err != nil {
		t.Fatalf("log in through the form: %v", err)
	}
	heading, sections := headings(t, ctx)
	if heading != "Administration du réseau" {
		t.Errorf("heading %q, want %q", heading, "Administration du réseau")
	}
	if want := []string{"Coopératives", "Boutiques et canaux", "Utilisateurs", "Sauvegardes", "Alertes de paiement"}; !slices.Equal(sections, want) {
		t.Errorf("sections %q, want %q", sections, want)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "admin-fr")

	err = chromedp.Do(ctx,
		chromedp.Click(`//nav[@class="langs"]/a[normalize-space()="العربية"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="ar"] section.card h2`)),
	)
	if err != nil {
		t.Fatalf("switch to Arabic through the language link: %v", err)
	}
	dir, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dir`))
	if err != nil {
		t.Fatal(err)
	}
	if dir != "rtl" {
		t.Errorf("document dir %q, want rtl", dir)
	}
	if heading, _ := headings(t, ctx); heading != "إدارة الشبكة" {
		t.Errorf("Arabic heading %q, want %q", heading, "إدارة الشبكة")
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "admin-ar")
}

// fitsThePhone fails when the page is wider than the phone's screen, so a
// person would have to scroll sideways to read it. Wide tables scroll
// inside their card, which is allowed.
func fitsThePhone(t *testing.T, ctx context.Context) {
	t.Helper()
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[window.innerWidth, document.documentElement.scrollWidth]`))
	if err != nil {
		t.Fatalf("measure the page: %v", err)
	}
	if widths[0] != phoneWidth {
		t.Fatalf("viewport %d px wide, want the phone's %d", widths[0], phoneWidth)
	}
	if widths[1] > widths[0] {
		t.Errorf("page is %d px wide on a %d px screen: it scrolls sideways", widths[1], widths[0])
	}
}

// headings returns the text a person sees as the page's h1 and the h2 of
// each section card.
func headings(t *testing.T, ctx context.Context) (string, []string) {
	t.Helper()
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main h1`)))
	if err != nil {
		t.Fatalf("read the heading: %v", err)
	}
	h2, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main section.card h2")].map(h => h.innerText)`))
	if err != nil {
		t.Fatalf("read the section headings: %v", err)
	}
	return h1, h2
}
