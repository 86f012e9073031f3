package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// outboxPost sends one record of the offline page's outbox.
func (b *browser) outboxPost(form url.Values, key string) (*http.Response, map[string]any) {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.e.URL("/coop/SIROUA/harvests/outbox"), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", key)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func TestOfflineOutboxStoresAResentHarvestOnce(t *testing.T) {
	f := newRecords(t)
	b := f.browserOf(t, f.managerEmail)
	resp, page := b.get("/coop/SIROUA/harvests/offline")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="offline-data"`) || !strings.Contains(page, "Tamazirt") || !strings.Contains(page, "/static/offline.js") {
		t.Fatalf("offline page: %d", resp.StatusCode)
	}
	if _, harvests := b.get("/coop/SIROUA/harvests"); !strings.Contains(harvests, `href="/coop/SIROUA/harvests/offline"`) {
		t.Error("the harvests page does not lead to the offline page")
	}
	before := f.e.Count("harvests")
	form := url.Values{"csrf": {csrfOf(t, page)}, "parcel": {f.parcel}, "member": {f.member}, "crop": {"saffron"}, "date": {"2025-10-29"}, "amount": {"300"}, "unit": {"g"}}
	first, a := b.outboxPost(form, "k-0001")
	again, a2 := b.outboxPost(form, "k-0001")
	if first.StatusCode != 201 || again.StatusCode != 201 || a["id"] == nil || a["id"] != a2["id"] || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("send and resend: %d %v, %d %v", first.StatusCode, a, again.StatusCode, a2)
	}
	if n := f.e.Count("harvests"); n != before+1 {
		t.Fatalf("a harvest sent twice is stored %d times", n-before)
	}
	// The same key with other values is not a resend.
	other := url.Values{}
	for k, v := range form {
		other[k] = v
	}
	other.Set("amount", "301")
	if resp, _ := b.outboxPost(other, "k-0001"); resp.StatusCode != 422 {
		t.Fatalf("same key, other harvest: %d", resp.StatusCode)
	}
	// A refusal says why, in the page's language.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("date", "29/10/2025")
	resp, refusal := b.outboxPost(bad, "k-0002")
	e, _ := refusal["error"].(map[string]any)
	if resp.StatusCode != 400 || e["field"] != "date" || !strings.HasPrefix(e["message"].(string), "Date") {
		t.Fatalf("refusal: %d %v", resp.StatusCode, refusal)
	}
	if n := f.e.Count("harvests"); n != before+1 {
		t.Fatalf("a refused harvest was stored")
	}
	// The auditor may read the harvests, not record them.
	auditor := f.browserOf(t, f.auditorEmail)
	if resp, _ := auditor.get("/coop/SIROUA/harvests/offline"); resp.StatusCode != 403 {
		t.Fatalf("auditor's offline page: %d", resp.StatusCode)
	}
	// The service worker is served from the root, never cached by HTTP.
	resp, sw := b.get("/harvest-sw.js")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || resp.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(sw, "terroir-harvests-v1") {
		t.Fatalf("service worker: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
}
