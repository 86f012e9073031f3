package web_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/terroir-coop/terroir/web/webtest"
)

// TestIdempotencyKeyReplaysCreatingRequests: a creating request sent again
// with the same key and body gets the first answer and does the work once;
// another body with the same key is refused.
func TestIdempotencyKeyReplaysCreatingRequests(t *testing.T) {
	e := webtest.New(t)
	body := []byte(`{"code":"TAFRAOUT","name":"Coopérative des amandes de Tafraout","kind":"almond","commune":"Tafraout","province":"Tiznit"}`)
	first, b1 := e.Do("POST", "/api/v1/cooperatives", e.AdminToken, body, "Idempotency-Key", "k-1")
	again, b2 := e.Do("POST", "/api/v1/cooperatives", e.AdminToken, body, "Idempotency-Key", "k-1")
	if first.StatusCode != 201 || again.StatusCode != 201 || string(b1) != string(b2) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s / %d %s", first.StatusCode, b1, again.StatusCode, b2)
	}
	if n := e.Count("cooperatives"); n != 1 {
		t.Fatalf("%d cooperatives after a retried request", n)
	}
	other := []byte(`{"code":"TAFRAOUT2","name":"x","kind":"almond","commune":"Tafraout","province":"Tiznit"}`)
	if resp, _ := e.Do("POST", "/api/v1/cooperatives", e.AdminToken, other, "Idempotency-Key", "k-1"); resp.StatusCode != 422 {
		t.Fatalf("same key, other body: %d", resp.StatusCode)
	}
	// Without a key, the same request is a second attempt: 409 duplicate code.
	if resp, _ := e.Do("POST", "/api/v1/cooperatives", e.AdminToken, body); resp.StatusCode != 409 {
		t.Fatalf("no key: %d", resp.StatusCode)
	}
	// Ten copies of one member request at once: one member.
	var wg sync.WaitGroup
	member := []byte(`{"name":"Hadda Ait Hammou","gender":"female","village":"Timlilt"}`)
	statuses := make([]int, 10)
	ids := make([]string, 10)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, b := e.Do("POST", "/api/v1/cooperatives/TAFRAOUT/members", e.AdminToken, member, "Idempotency-Key", "m-1")
			statuses[i] = resp.StatusCode
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			ids[i], _ = m["id"].(string)
		}()
	}
	wg.Wait()
	if n := e.Count("members"); n != 1 {
		t.Fatalf("%d members from one request sent ten times (statuses %v)", n, statuses)
	}
	for i, st := range statuses {
		if st != 201 && st != 409 {
			t.Errorf("copy %d: %d", i, st)
		}
		if st == 201 && ids[i] != ids[0] && ids[0] != "" {
			t.Errorf("copy %d answered another member %s", i, ids[i])
		}
	}
}

// TestAnonymousAndRefusedRequestsKeepNothing: anonymous requests with
// Idempotency-Keys, and an authenticated request that was refused, leave no
// record behind, so nobody can grow the database by sending keys (issue
// 14: 6,611 anonymous requests had grown it by 6.4 MB); an accepted one is
// kept and replayed.
func TestAnonymousAndRefusedRequestsKeepNothing(t *testing.T) {
	e := webtest.New(t)
	for i := range 200 {
		resp, _ := e.Do("POST", "/api/v1/cooperatives", "", []byte(`{"code":"X"}`), "Idempotency-Key", fmt.Sprintf("anon-%d", i))
		if resp.StatusCode != 401 || resp.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("anonymous create: %d replayed=%q", resp.StatusCode, resp.Header.Get("Idempotent-Replayed"))
		}
	}
	bad := []byte(`{"code":"","name":""}`)
	for range 2 {
		resp, _ := e.Do("POST", "/api/v1/cooperatives", e.AdminToken, bad, "Idempotency-Key", "refused-1")
		if resp.StatusCode != 400 || resp.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("refused create: %d replayed=%q", resp.StatusCode, resp.Header.Get("Idempotent-Replayed"))
		}
	}
	if n := e.Count("idempotency"); n != 0 {
		t.Fatalf("%d idempotency records after anonymous and refused requests", n)
	}
	good := []byte(`{"code":"TAFRAOUT","name":"Coopérative Tafraout","kind":"argan","commune":"Tafraout","province":"Tiznit"}`)
	first, _ := e.Do("POST", "/api/v1/cooperatives", e.AdminToken, good, "Idempotency-Key", "accepted-1")
	again, _ := e.Do("POST", "/api/v1/cooperatives", e.AdminToken, good, "Idempotency-Key", "accepted-1")
	if first.StatusCode != 201 || again.StatusCode != 201 || again.Header.Get("Idempotent-Replayed") != "true" || e.Count("idempotency") != 1 {
		t.Fatalf("accepted create: %d then %d replayed=%q, %d records", first.StatusCode, again.StatusCode, again.Header.Get("Idempotent-Replayed"), e.Count("idempotency"))
	}
}
