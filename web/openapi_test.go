package web_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/web"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestOpenAPICoversEveryRoute fails when a route is added to the router
// without being described in openapi.json, or described under the
// operationId of another handler.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	e := webtest.New(t)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if st := e.JSON("GET", "/api/v1/openapi.json", "", nil, &doc); st != 200 {
		t.Fatal(st)
	}
	param := regexp.MustCompile(`:(\w+)`)
	routes := web.Routes(e.Web)
	if len(routes) < 20 {
		t.Fatalf("only %d routes found: the check would prove nothing", len(routes))
	}
	for _, r := range routes {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		p := param.ReplaceAllString(strings.TrimPrefix(r.Path, "/api/v1"), "{$1}")
		raw, ok := doc.Paths[p][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s is not in openapi.json", r.Method, p)
			continue
		}
		var op struct {
			OperationID string `json:"operationId"`
		}
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatalf("%s %s: %v", r.Method, p, err)
		}
		// The operationId names the handler (with a suffix where one
		// handler answers two routes).
		if !strings.Contains(op.OperationID, r.Handler) {
			t.Errorf("%s %s: operationId %q, but %s answers it", r.Method, p, op.OperationID, r.Handler)
		}
	}
}

// TestOrderReplayIsMarked: the document promises Idempotent-Replayed: true
// on the replay of a creating request; POST /orders keeps its own
// idempotency records and says it too, and only on the replay.
func TestOrderReplayIsMarked(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)
	b, _ := json.Marshal(orderBody(1))
	first, _ := e.Do("POST", "/api/v1/orders", "", b, "Idempotency-Key", "replay-1")
	again, _ := e.Do("POST", "/api/v1/orders", "", b, "Idempotency-Key", "replay-1")
	if first.StatusCode != 201 || again.StatusCode != 201 {
		t.Fatalf("orders: %d then %d", first.StatusCode, again.StatusCode)
	}
	if first.Header.Get("Idempotent-Replayed") != "" || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed: first %q, replay %q", first.Header.Get("Idempotent-Replayed"), again.Header.Get("Idempotent-Replayed"))
	}
}
