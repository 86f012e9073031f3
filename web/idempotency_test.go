package web_test

import (
	"encoding/json"
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
