package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/web"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestOpenAPICoversEveryRoute fails when a route is added to the router
// without being described in openapi.json.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	e := webtest.New(t)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
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
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("%s %s is not in openapi.json", r.Method, p)
		}
	}
}
