package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/web/webtest"
)

// setOffline cuts or restores the page's network through the DevTools
// protocol, as the Network panel's "Offline" does.
func setOffline(offline bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if err := t.Call(ctx, "Network.enable", map[string]any{}, nil); err != nil {
			return err
		}
		return t.Call(ctx, "Network.emulateNetworkConditions", map[string]any{
			"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}, nil)
	})
}

// recordHarvest fills the offline form and submits it, and waits until the
// outbox holds waiting records.
func recordHarvest(date, amount, waiting string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.SetValue(chromedp.CSS(`#harvest input[name="date"]`), date),
		chromedp.SetValue(chromedp.CSS(`#harvest input[name="amount"]`), amount),
		chromedp.SetValue(chromedp.CSS(`#harvest select[name="unit"]`), "g"),
		chromedp.Click(chromedp.CSS(`#harvest button[type="submit"]`), chromedp.NodeVisible),
		chromedp.Poll[chromedp.Void](`document.body.dataset.waiting === "`+waiting+`"`, chromedp.WithPollingTimeout(browserTimeout)),
	)
}

// TestBrowserRecordsHarvestsOffline is a manager in a field above
// Taliouine: the harvest page, opened once with signal, keeps working
// without it; three harvests wait on the phone, survive a reload with no
// network, and are stored exactly once when the signal returns. A harvest
// the server refuses shows why, in French, and is corrected and resent.
func TestBrowserRecordsHarvestsOffline(t *testing.T) {
	e := webtest.New(t)
	newCoop(t, e, "SIROUA", "saffron", 1000) // member Fatima Aït Brahim, parcel Tamazirt
	ctx := newChrome(t)
	page := e.URL("/coop/SIROUA/harvests/offline")

	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL("/login")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "siroua@coop.ma"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.Password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.subnav`)),
		// What the phone downloads for the page, with nothing in its cache.
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			return t.Call(ctx, "Network.clearBrowserCache", map[string]any{}, nil)
		}),
		chromedp.Navigate(page),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "1" && document.body.dataset.offlineReady === "1"`, chromedp.WithPollingTimeout(browserTimeout)),
	)
	if err != nil {
		t.Fatalf("open the offline harvest page: %v", err)
	}
	// First load: the page and its files, plus what the service worker
	// fetches for its cache (the page again; the script and style come from
	// the HTTP cache) and the worker itself.
	var loaded struct {
		Page, Files, Worker int
		Names               []string
	}
	loaded, err = chromedp.Run(ctx, chromedp.Evaluate[struct {
		Page, Files, Worker int
		Names               []string
	}](`(async () => {
		const nav = performance.getEntriesByType("navigation")[0], res = performance.getEntriesByType("resource");
		const sw = await fetch("/harvest-sw.js?page=x", {cache: "no-store"}).then(r => r.text());
		return {Page: nav.transferSize, Files: res.reduce((s, e) => s + e.transferSize, 0), Worker: sw.length, Names: res.map(e => new URL(e.name).pathname)};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	total := 2*loaded.Page + loaded.Files + loaded.Worker
	t.Logf("first load: page %d B (twice), files %d B %v, worker %d B: %d B", loaded.Page, loaded.Files, loaded.Names, loaded.Worker, total)
	if loaded.Page == 0 || loaded.Files == 0 || total >= 50_000 {
		t.Errorf("first load transfers %d bytes, want under 50 KB", total)
	}
	fitsThePhone(t, ctx)
	screenshot(t, ctx, "offline-fr")

	// No signal: three harvests wait on the phone.
	if err := chromedp.Do(ctx, setOffline(true),
		chromedp.Poll[chromedp.Void](`!navigator.onLine`, chromedp.WithPollingTimeout(browserTimeout)),
		recordHarvest("2025-10-28", "400", "1"),
		recordHarvest("2025-10-29", "350", "2"),
		recordHarvest("2025-10-30", "500", "3"),
	); err != nil {
		t.Fatalf("record three harvests offline: %v", err)
	}
	if n := e.Count("harvests"); n != 0 {
		t.Fatalf("%d harvests reached the server while offline", n)
	}
	// The page reloads with no network, and still holds the three, and
	// what was being typed.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#harvest input[name="amount"]`), "123"), chromedp.Reload(),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "1" && document.body.dataset.waiting === "3"`, chromedp.WithPollingTimeout(browserTimeout)),
	); err != nil {
		t.Fatalf("reload offline: %v", err)
	}
	waiting, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#waiting`)))
	if err != nil || waiting != "En attente : 3" {
		t.Fatalf("waiting badge %q (%v)", waiting, err)
	}
	if typed, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#harvest input[name="amount"]`))); err != nil || typed != "123" {
		t.Fatalf("the amount being typed is %q after the reload (%v)", typed, err)
	}
	screenshot(t, ctx, "offline-waiting-fr")

	// The signal returns: each is sent, and stored once.
	if err := chromedp.Do(ctx, setOffline(false),
		chromedp.Poll[chromedp.Void](`document.body.dataset.waiting === "0"`, chromedp.WithPollingTimeout(browserTimeout)),
	); err != nil {
		t.Fatalf("send when back online: %v", err)
	}
	var stored []struct {
		Date     string `json:"date"`
		Quantity struct {
			Amount int64  `json:"amount"`
			Unit   string `json:"unit"`
		} `json:"quantity"`
	}
	manager := e.Token("siroua@coop.ma", webtest.Password)
	if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/harvests", manager, nil, &stored); st != 200 || len(stored) != 3 {
		outbox, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#outbox`)))
		t.Fatalf("harvests stored: %d %+v; outbox %q", st, stored, outbox)
	}
	seen := map[string]bool{}
	for _, h := range stored {
		seen[h.Date] = true
	}
	if !seen["2025-10-28"] || !seen["2025-10-29"] || !seen["2025-10-30"] {
		t.Fatalf("harvests stored: %+v", stored)
	}

	// A harvest the server refuses stays, with its reason; corrected, it
	// is sent again.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#harvest input[name="date"]`), "2025-10-31"),
		chromedp.SetValue(chromedp.CSS(`#harvest input[name="amount"]`), "0"),
		chromedp.SetValue(chromedp.CSS(`#harvest select[name="unit"]`), "g"),
		chromedp.Click(chromedp.CSS(`#harvest button[type="submit"]`), chromedp.NodeVisible),
		chromedp.Poll[chromedp.Void](`document.body.dataset.refused === "1"`, chromedp.WithPollingTimeout(browserTimeout)),
	); err != nil {
		t.Fatalf("a refused harvest: %v", err)
	}
	reason, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#outbox li.refused strong`)))
	if err != nil || !strings.HasPrefix(reason, "Quantité") || strings.Contains(reason, "must") {
		t.Fatalf("refusal shown as %q (%v), want the reason in French", reason, err)
	}
	screenshot(t, ctx, "offline-refused-fr")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#outbox li.refused button.fix`), chromedp.NodeVisible),
		chromedp.SetValue(chromedp.CSS(`#harvest input[name="amount"]`), "250"),
		chromedp.Click(chromedp.CSS(`#harvest button[type="submit"]`), chromedp.NodeVisible),
		chromedp.Poll[chromedp.Void](`document.body.dataset.refused === "0" && document.body.dataset.waiting === "0" && document.getElementById("sent").textContent === "Envoyées : 4"`, chromedp.WithPollingTimeout(browserTimeout)),
	); err != nil {
		t.Fatalf("correct and resend: %v", err)
	}
	if n := e.Count("harvests"); n != 4 {
		t.Fatalf("%d harvests after the correction, want 4", n)
	}
}
