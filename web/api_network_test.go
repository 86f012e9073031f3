package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/webtest"
)

func TestAuthToken(t *testing.T) {
	e := webtest.New(t)
	var ok struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	if st := e.JSON("POST", "/api/v1/auth/token", "", map[string]string{"email": webtest.AdminEmail, "password": webtest.Password}, &ok); st != 200 || ok.Token == "" || ok.ExpiresAt == "" {
		t.Fatalf("good login: %d %+v", st, ok)
	}
	var bad webtest.APIError
	if st := e.JSON("POST", "/api/v1/auth/token", "", map[string]string{"email": webtest.AdminEmail, "password": "wrong-password"}, &bad); st != 401 || bad.Error.Code != "unauthorized" {
		t.Fatalf("wrong password: %d %+v", st, bad)
	}
	// The token is stored only as a hash: the secret appears nowhere in the store.
	raw, _ := e.Store.Collection("tokens").Find(t.Context(), map[string]any{})
	var docs []map[string]any
	_ = raw.All(t.Context(), &docs)
	for _, d := range docs {
		b, _ := json.Marshal(d)
		if strings.Contains(string(b), ok.Token) {
			t.Fatalf("token stored in clear: %s", b)
		}
	}
	if st := e.JSON("GET", "/api/v1/me", ok.Token, nil, nil); st != 200 {
		t.Fatalf("token does not authenticate: %d", st)
	}
	if st := e.JSON("GET", "/api/v1/me", "not-a-token", nil, nil); st != 401 {
		t.Fatalf("bad token: %d, want 401", st)
	}
}

func TestCreateCooperativeStatuses(t *testing.T) {
	e := webtest.New(t)
	e.Cooperative("TIWIZWINE", "argan")
	managerA := e.User("a@coop.ma", access.CoopManager, "TIWIZWINE")
	good := `{"code":"SIROUA","name":"Coopérative Safran Siroua","kind":"saffron","commune":"Taliouine","province":"Taroudannt"}`
	tests := []struct {
		name   string
		token  string
		body   string
		status int
		code   string
		field  string
	}{
		{"no token", "", good, 401, "unauthorized", ""},
		{"coop manager is not admin", managerA, good, 403, "forbidden", ""},
		{"malformed JSON", e.AdminToken, `{"code":`, 400, "invalid", ""},
		{"not an object", e.AdminToken, `[1,2]`, 400, "invalid", ""},
		{"unknown field", e.AdminToken, `{"code":"X1","name":"n","kind":"argan","commune":"c","province":"p","owner":"me"}`, 400, "invalid", "owner"},
		{"operator smuggled in code", e.AdminToken, `{"code":{"$ne":null},"name":"n","kind":"argan","commune":"c","province":"p"}`, 400, "invalid", "code"},
		{"bad kind", e.AdminToken, `{"code":"X1","name":"n","kind":"cheese","commune":"c","province":"p"}`, 400, "invalid", "kind"},
		{"bad code", e.AdminToken, `{"code":"a b","name":"n","kind":"argan","commune":"c","province":"p"}`, 400, "invalid", "code"},
		{"missing name", e.AdminToken, `{"code":"X1","kind":"argan","commune":"c","province":"p"}`, 400, "invalid", "name"},
		{"trailing data", e.AdminToken, good + `{}`, 400, "invalid", ""},
		{"duplicate code", e.AdminToken, `{"code":"tiwizwine","name":"n","kind":"argan","commune":"c","province":"p"}`, 409, "conflict", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.Count("cooperatives")
			var got webtest.APIError
			st := e.JSON("POST", "/api/v1/cooperatives", tt.token, tt.body, &got)
			if st != tt.status || got.Error.Code != tt.code || got.Error.Field != tt.field || got.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s field %q", st, got, tt.status, tt.code, tt.field)
			}
			if after := e.Count("cooperatives"); after != before {
				t.Fatalf("refused request wrote: %d cooperatives before, %d after", before, after)
			}
		})
	}
	var created map[string]any
	if st := e.JSON("POST", "/api/v1/cooperatives", e.AdminToken, good, &created); st != 201 || created["code"] != "SIROUA" {
		t.Fatalf("create: %d %v", st, created)
	}
}

func TestOversizedBodyIs413(t *testing.T) {
	e := webtest.New(t)
	big := `{"code":"X1","name":"` + strings.Repeat("a", 2<<20) + `"}`
	before := e.Count("cooperatives")
	resp, b := e.Do("POST", "/api/v1/cooperatives", e.AdminToken, []byte(big))
	var got webtest.APIError
	_ = json.Unmarshal(b, &got)
	if resp.StatusCode != 413 || got.Error.Code != "too_large" {
		t.Fatalf("got %d %s", resp.StatusCode, b)
	}
	// Without Content-Length (chunked), the limit holds while reading.
	req := bytes.NewReader([]byte(big))
	r2, err := e.Server.Client().Post(e.URL("/api/v1/cooperatives"), "application/json", struct{ *bytes.Reader }{req})
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 413 {
		t.Fatalf("chunked oversized body: %d, want 413", r2.StatusCode)
	}
	if e.Count("cooperatives") != before {
		t.Fatal("oversized body wrote")
	}
}

func TestOperatorSmugglingNeverReachesAQuery(t *testing.T) {
	e := webtest.New(t)
	for _, body := range []string{
		`{"email":{"$gt":""},"password":"x"}`,
		`{"email":"admin@test.terroir","password":{"$ne":null}}`,
	} {
		var got webtest.APIError
		if st := e.JSON("POST", "/api/v1/auth/token", "", body, &got); st != 400 || got.Error.Field == "" {
			t.Errorf("%s: got %d %+v, want 400 naming the field", body, st, got)
		}
	}
	var got webtest.APIError
	if st := e.JSON("POST", "/api/v1/users", e.AdminToken, `{"email":"x@y.ma","password":"longenough","role":{"$in":["admin"]}}`, &got); st != 400 || got.Error.Field != "role" {
		t.Errorf("role operator: %d %+v", st, got)
	}
}

func TestMembersTenancy(t *testing.T) {
	e := webtest.New(t)
	e.Cooperative("COOPA", "pamm")
	e.Cooperative("COOPB", "argan")
	a := e.User("a@coop.ma", access.CoopManager, "COOPA")
	auditor := e.User("audit@cert.ma", access.Auditor, "", "COOPA")
	member := map[string]string{"name": "Itto Amellal", "gender": "female", "village": "Tagmoute"}

	var m map[string]any
	if st := e.JSON("POST", "/api/v1/cooperatives/COOPA/members", a, member, &m); st != 201 || m["id"] == "" || m["cooperative"] != "COOPA" {
		t.Fatalf("own cooperative: %d %v", st, m)
	}
	checks := []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"manager of A writes B", "POST", "/api/v1/cooperatives/COOPB/members", a, member, 403},
		{"manager of A reads B", "GET", "/api/v1/cooperatives/COOPB/members", a, nil, 403},
		{"manager of A reads B's record", "GET", "/api/v1/cooperatives/COOPB", a, nil, 403},
		{"auditor reads A", "GET", "/api/v1/cooperatives/COOPA/members", auditor, nil, 200},
		{"auditor cannot write A", "POST", "/api/v1/cooperatives/COOPA/members", auditor, member, 403},
		{"auditor cannot read B", "GET", "/api/v1/cooperatives/COOPB/members", auditor, nil, 403},
		{"anonymous", "POST", "/api/v1/cooperatives/COOPA/members", "", member, 401},
		{"unknown cooperative", "POST", "/api/v1/cooperatives/NOPE/members", e.AdminToken, member, 404},
		{"bad gender", "POST", "/api/v1/cooperatives/COOPA/members", a, map[string]string{"name": "X", "gender": "?", "village": "V"}, 400},
	}
	for _, c := range checks {
		before := e.Count("members")
		if st := e.JSON(c.method, c.path, c.token, c.body, nil); st != c.status {
			t.Errorf("%s: got %d, want %d", c.name, st, c.status)
		}
		if c.status != 200 && e.Count("members") != before {
			t.Errorf("%s: refused request wrote a member", c.name)
		}
	}
	var list []map[string]any
	if st := e.JSON("GET", "/api/v1/cooperatives", a, nil, &list); st != 200 || len(list) != 1 || list[0]["code"] != "COOPA" {
		t.Fatalf("manager's cooperative list: %d %v", st, list)
	}
}

func TestShopsAndUsers(t *testing.T) {
	e := webtest.New(t)
	var sh map[string]any
	if st := e.JSON("POST", "/api/v1/shops", e.AdminToken, map[string]string{"code": "TAROUDANNT", "name": "Boutique solidaire", "city": "Taroudannt", "currency": "MAD", "kind": "boutique"}, &sh); st != 201 {
		t.Fatalf("create shop: %d %v", st, sh)
	}
	var got webtest.APIError
	if st := e.JSON("POST", "/api/v1/shops", e.AdminToken, map[string]string{"code": "EU", "name": "EU", "city": "Lyon", "currency": "USD", "kind": "platform"}, &got); st != 400 || got.Error.Field != "currency" {
		t.Fatalf("bad currency: %d %+v", st, got)
	}
	if st := e.JSON("POST", "/api/v1/shops", e.AdminToken, map[string]string{"code": "taroudannt", "name": "x", "city": "x", "currency": "MAD", "kind": "boutique"}, nil); st != 409 {
		t.Fatalf("duplicate shop: %d", st)
	}
	var u map[string]any
	if st := e.JSON("POST", "/api/v1/users", e.AdminToken, map[string]string{"email": "Shop@Terroir.ma", "password": "long-password", "role": "shop_manager", "org": "TAROUDANNT"}, &u); st != 201 || u["email"] != "shop@terroir.ma" || u["org"] != "TAROUDANNT" || u["id"] == "" {
		t.Fatalf("create user: %d %v", st, u)
	}
	if _, leaked := u["password_hash"]; leaked {
		t.Fatal("password hash in the answer")
	}
	for _, tc := range []struct {
		body  map[string]string
		field string
	}{
		{map[string]string{"email": "x@y.ma", "password": "long-password", "role": "shop_manager", "org": "NOWHERE"}, "org"},
		{map[string]string{"email": "not-an-email", "password": "long-password", "role": "admin"}, "email"},
		{map[string]string{"email": "x@y.ma", "password": "short", "role": "admin"}, "password"},
		{map[string]string{"email": "x@y.ma", "password": "long-password", "role": "king"}, "role"},
	} {
		var ge webtest.APIError
		if st := e.JSON("POST", "/api/v1/users", e.AdminToken, tc.body, &ge); st != 400 || ge.Error.Field != tc.field {
			t.Errorf("%v: got %d %+v, want 400 on %s", tc.body, st, ge, tc.field)
		}
	}
	if st := e.JSON("POST", "/api/v1/users", e.AdminToken, map[string]string{"email": "SHOP@terroir.ma", "password": "long-password", "role": "admin"}, nil); st != 409 {
		t.Fatalf("duplicate email: %d", st)
	}
}

func TestLoginThrottling(t *testing.T) {
	e := webtest.New(t)
	for i := 0; i < 5; i++ {
		if st := e.JSON("POST", "/api/v1/auth/token", "", map[string]string{"email": webtest.AdminEmail, "password": "guess"}, nil); st != 401 {
			t.Fatalf("attempt %d: %d", i, st)
		}
	}
	var got webtest.APIError
	st := e.JSON("POST", "/api/v1/auth/token", "", map[string]string{"email": webtest.AdminEmail, "password": webtest.Password}, &got)
	if st != 429 || got.Error.Code != "too_many_requests" {
		t.Fatalf("after 5 failures the right password must still be refused: %d %+v", st, got)
	}
}

func TestOperationalEndpoints(t *testing.T) {
	e := webtest.New(t)
	e.Do("GET", "/healthz", "", nil) // so /metrics has a request to report
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/api/v1/openapi.json": 200, "/api/v1/nope": 404} {
		resp, b := e.Do("GET", path, "", nil)
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
		if resp.Header.Get("X-Request-ID") == "" {
			t.Errorf("%s: no request ID", path)
		}
		if path == "/metrics" && !strings.Contains(string(b), "terroir_http_request_duration_seconds") {
			t.Errorf("metrics lack request durations")
		}
	}
}

// TestMetricsLabelsAreTheServers: whatever method or path a client sends,
// /metrics gains no series named by it (issue 13: `curl -X XMETHOD1`).
func TestMetricsLabelsAreTheServers(t *testing.T) {
	e := webtest.New(t)
	series := func() []string {
		_, b := e.Do("GET", "/metrics", "", nil)
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "terroir_http_request_duration_seconds_count{") {
				out = append(out, line)
			}
		}
		return out
	}
	for i := range 5 {
		e.Do(fmt.Sprintf("XMETHOD%d", i), "/healthz", "", nil)
		e.Do("GET", fmt.Sprintf("/no/such/path/%d", i), "", nil)
	}
	got := series()
	for _, line := range got {
		if strings.Contains(line, "XMETHOD") || strings.Contains(line, "/no/such") {
			t.Errorf("a client-chosen label: %s", line)
		}
	}
	before := len(got)
	for i := 5; i < 50; i++ {
		e.Do(fmt.Sprintf("XMETHOD%d", i), "/healthz", "", nil)
		e.Do(fmt.Sprintf("XMETHOD%d", i), "/api/v1/nope", "", nil)
	}
	if after := len(series()); after > before+2 { // at most the one series of each new (other, route, status)
		t.Fatalf("%d series after 90 more odd requests, %d before", after, before)
	}
	if !slices.ContainsFunc(series(), func(l string) bool { return strings.Contains(l, `method="other"`) }) {
		t.Fatalf("odd methods are not counted as other: %v", got)
	}
}

// TestForwardedForIsBelievedOnlyFromTrustedProxies: by default the login
// limit counts the connection's address, whatever X-Forwarded-For claims —
// rotating it does not buy more guesses, and claiming a neighbour's address
// does not lock the neighbour out (issue 14); behind a configured proxy its
// X-Forwarded-For names the client.
func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	guess := func(e *webtest.Env, xff string) int {
		body, _ := json.Marshal(map[string]string{"email": fmt.Sprintf("nobody%d@x.ma", rand.Int()), "password": "wrong-password"})
		resp, _ := e.Do("POST", "/api/v1/auth/token", "", body, "Content-Type", "application/json", "X-Forwarded-For", xff)
		return resp.StatusCode
	}
	e := webtest.New(t)
	limited := false
	for i := range 40 {
		if guess(e, fmt.Sprintf("203.0.113.%d", i)) == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("40 failures from one connection with rotating X-Forwarded-For were never limited")
	}

	p := webtest.NewWith(t, webtest.Options{TrustedProxies: []string{"127.0.0.1/32"}})
	for i := range 40 {
		if st := guess(p, fmt.Sprintf("203.0.113.%d", i)); st == 429 {
			t.Fatalf("behind a trusted proxy, failure %d from a different client was limited", i)
		}
	}
}
