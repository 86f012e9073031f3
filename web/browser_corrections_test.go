package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/web/webtest"
)

// TestBrowserCorrectsALotOnThePhone: the manager corrects a lot from its
// page on a phone, confirming with the box (the browser refuses to submit
// without it), and reads the correction in the lot's history; the lot
// page, the two-step transformation form and the audit page fit the phone
// in French and in Arabic.
func TestBrowserCorrectsALotOnThePhone(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 150, false)
	ctx := newChrome(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL("/login")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "siroua@coop.ma"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.Password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		// The login page has a heading too: wait for the signed-in header,
		// or the next navigation aborts the login's (net::ERR_ABORTED).
		chromedp.WaitVisible(chromedp.CSS(`header .who`)),
		chromedp.Navigate(e.URL("/lots/"+j.dried.Code)),
		chromedp.WaitVisible(chromedp.CSS(`#correct summary`)),
		chromedp.Click(chromedp.CSS(`#correct summary`)),
		chromedp.SendKeys(chromedp.CSS(`#correct input[name="amount"]`), "198"),
		chromedp.SendKeys(chromedp.CSS(`#correct textarea[name="reason"]`), "la balance n'était pas tarée"),
	)
	if err != nil {
		t.Fatalf("open the correction form: %v", err)
	}
	// Without the confirmation the browser keeps the form.
	valid, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#correct form').checkValidity()`))
	if err != nil || valid {
		t.Fatalf("the form is valid without its confirmation: %v %v", valid, err)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "lot-correction-fr")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#correct input[name="confirm"]`)),
		chromedp.Click(chromedp.CSS(`#correct button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.corrected`)),
	)
	if err != nil {
		t.Fatalf("submit the correction: %v", err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr.corrected`)))
	if err != nil || !strings.Contains(row, "Correction") || !strings.Contains(row, "la balance n'était pas tarée") || !strings.Contains(row, "-2 g") {
		t.Fatalf("the history's correction row reads %q (%v)", row, err)
	}
	for _, path := range []string{"/lots/" + j.dried.Code, "/coop/SIROUA/lots?in0_lot=" + j.dried.Code + "&process=sorting", "/audit/SIROUA"} {
		for _, lang := range []string{"fr", "ar"} {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(e.URL(path+sep+"lang="+lang)), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
				t.Fatalf("%s in %s: %v", path, lang, err)
			}
			fitsThePhone(t, ctx)
			screenshot(t, ctx, strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "_").Replace(path)+"-"+lang)
		}
	}
}
