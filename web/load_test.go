package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/web"
	"github.com/terroir-coop/terroir/web/webtest"
)

// errorCode is the "code" of an API error body.
func errorCode(t *testing.T, b []byte) (code, field string) {
	t.Helper()
	var out struct {
		Error struct {
			Code  string `json:"code"`
			Field string `json:"field"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	return out.Error.Code, out.Error.Field
}

// heldRequest starts a POST whose body never ends until release is
// called (at the latest when the test ends): the handler reading it holds
// its group's slot meanwhile.
func heldRequest(t *testing.T, e *webtest.Env, path, contentType string) (release func()) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", e.URL(path), pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	done := make(chan struct{})
	var released atomic.Bool
	go func() {
		defer close(done)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if !released.Load() { // said, so that a test waiting for the slot tells why it never filled
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Logf("held POST %s ended before its release: status %d, %v", path, status, err)
		}
	}()
	_, _ = pw.Write([]byte(`{"channel":`)) // the server has started reading
	var once sync.Once
	release = func() {
		once.Do(func() {
			released.Store(true)
			_, _ = pw.Write([]byte(`"x"}`))
			pw.Close()
			<-done
		})
	}
	t.Cleanup(release) // before the server closes, which waits for it
	return release
}

// pollStatus asks path until it answers want (or fails after a deadline).
func pollStatus(t *testing.T, e *webtest.Env, path string, want func(int) bool) (*http.Response, []byte) {
	t.Helper()
	resp, b, ok := pollStatusFor(e, path, want, 15*time.Second)
	if !ok {
		t.Fatalf("GET %s: still %d after 15 s", path, resp.StatusCode)
	}
	return resp, b
}

// pollStatusFor asks path until it answers want, for at most d.
func pollStatusFor(e *webtest.Env, path string, want func(int) bool, d time.Duration) (*http.Response, []byte, bool) {
	deadline := time.Now().Add(d)
	for {
		resp, b := e.Do("GET", path, "", nil)
		if want(resp.StatusCode) {
			return resp, b, true
		}
		if time.Now().After(deadline) {
			return resp, b, false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fillGroup holds n requests to post (read by handlers that wait for the
// rest of their bodies) until probe, a GET of the same group, answers 503,
// and returns what probe answered and how to release them. A held request
// may meet the group still counting one that has already answered (its slot
// is given back when its handlers return, a moment after its client read the
// answer: e.g. the test's sign-in): it is refused and the group never fills.
// Such a try is released and made again.
func fillGroup(t *testing.T, e *webtest.Env, n int, post, contentType, probe string) (release func(), resp *http.Response, body []byte) {
	t.Helper()
	busy := func(st int) bool { return st == http.StatusServiceUnavailable }
	for try := 1; ; try++ {
		var releases []func()
		for range n {
			releases = append(releases, heldRequest(t, e, post, contentType))
		}
		release = func() {
			for _, r := range releases {
				r()
			}
		}
		resp, body, ok := pollStatusFor(e, probe, busy, 3*time.Second)
		if ok {
			return release, resp, body
		}
		release()
		if try == 5 {
			t.Fatalf("%d held POSTs %s never filled their group: GET %s still %d", n, post, probe, resp.StatusCode)
		}
	}
}

// A route group at its cap answers 503 + Retry-After at once, without
// queueing; the other groups and the health checks go on answering, and
// the group answers again when its requests end.
func TestFullRouteGroupAnswers503AndOthersStillAnswer(t *testing.T) {
	e := webtest.NewWith(t, webtest.Options{Configure: func(c *web.Config) {
		c.Concurrency = web.Concurrency{API: 2}
	}})
	release, resp, b := fillGroup(t, e, 2, "/api/v1/orders", "application/json", "/api/v1/openapi.json")
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Fatalf("503 without a Retry-After of seconds: %q", resp.Header.Get("Retry-After"))
	}
	if code, _ := errorCode(t, b); code != "unavailable" {
		t.Fatalf("503 code %q, want unavailable", code)
	}
	// The other groups, and the operations' routes, are not affected.
	for _, path := range []string{"/shop/NOPE", "/login", "/healthz", "/metrics"} {
		if resp, _ := e.Do("GET", path, "", nil); resp.StatusCode == http.StatusServiceUnavailable {
			t.Fatalf("GET %s while the API is full: 503", path)
		}
	}
	release()
	pollStatus(t, e, "/api/v1/openapi.json", func(st int) bool { return st == http.StatusOK })

	// A full page group answers with a page, as its other errors.
	e = webtest.NewWith(t, webtest.Options{Configure: func(c *web.Config) {
		c.Concurrency = web.Concurrency{Pages: 1}
	}})
	release, resp, b = fillGroup(t, e, 1, "/login", "application/x-www-form-urlencoded", "/login") // the CSRF check reads the form
	if resp.Header.Get("Retry-After") == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), "</html>") {
		t.Fatalf("full page group: Retry-After %q, %s", resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
	}
	if resp, _ := e.Do("GET", "/api/v1/openapi.json", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("API while the pages are full: %d", resp.StatusCode)
	}
	release()
}

// The per-address limits with their defaults: a phone scanning a few jars
// and browsing the shop never meets them; 1000 requests a minute from one
// address does, with 429, Retry-After and too_many_requests, while a
// signed-in user from the same address is not limited. Anonymous writes
// (orders, the cart) have their own, smaller, bucket.
func TestRateLimitsSpareAPhoneAndStopAFlood(t *testing.T) {
	e := webtest.NewWith(t, webtest.Options{Configure: func(c *web.Config) { c.RateLimits = web.RateLimits{} }})
	f := newPlatform(t, e)
	_ = f

	// A visitor scanning ten jars, reading each page twice, and looking at
	// the shop.
	for i := range 10 {
		for range 2 {
			if resp, _ := e.Do("GET", fmt.Sprintf("/t/NOPE-%d", i), "", nil); resp.StatusCode == http.StatusTooManyRequests {
				t.Fatalf("scan %d of a phone: 429", i)
			}
		}
		if resp, _ := e.Do("GET", "/shop/EU-PLATFORM", "", nil); resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("catalogue %d of a phone: 429", i)
		}
	}
	if st, _ := placeOrder(t, e, 1, ""); st != http.StatusCreated {
		t.Fatalf("a visitor's order: %d, want 201", st)
	}

	// 1000 requests in well under a minute from the same address.
	first := 0
	var limited *http.Response
	var body []byte
	for i := range 1000 {
		resp, b := e.Do("GET", "/api/v1/trace/NOPE", "", nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			first, limited, body = i, resp, b
			break
		}
	}
	if limited == nil {
		t.Fatal("1000 trace reads from one address: never 429")
	}
	if first < 60 {
		t.Fatalf("limited after %d reads: a busy phone would see it", first)
	}
	if ra, err := strconv.Atoi(limited.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Fatalf("429 Retry-After %q, want 1-60 seconds", limited.Header.Get("Retry-After"))
	}
	if code, _ := errorCode(t, body); code != "too_many_requests" {
		t.Fatalf("429 code %q", code)
	}
	if resp, _ := e.Do("GET", "/shop/EU-PLATFORM", "", nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("catalogue page from the flooding address: %d, want 429", resp.StatusCode)
	}
	// Signed in, the same address reads on: by token and by session.
	if resp, _ := e.Do("GET", "/api/v1/trace/NOPE", e.AdminToken, nil); resp.StatusCode == http.StatusTooManyRequests {
		t.Fatal("signed-in API reader limited")
	}
	b := newBrowser(t, e)
	b.login("")
	if resp, _ := b.get("/shop/EU-PLATFORM"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed-in visitor of the catalogue: %d, want 200", resp.StatusCode)
	}
	// A minute later the bucket has refilled.
	e.Clock.Advance(time.Minute)
	if resp, _ := e.Do("GET", "/shop/EU-PLATFORM", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("a minute later: %d, want 200", resp.StatusCode)
	}

	// Anonymous writes: a flood of orders meets the writes' bucket
	// (malformed orders count too: nothing is stored).
	limited = nil
	for i := range 200 {
		resp, b := e.Do("POST", "/api/v1/orders", "", []byte(`{}`))
		if resp.StatusCode == http.StatusTooManyRequests {
			limited, body, first = resp, b, i
			break
		}
	}
	if limited == nil || limited.Header.Get("Retry-After") == "" {
		t.Fatal("200 anonymous orders from one address: never 429 with Retry-After")
	}
	if code, _ := errorCode(t, body); code != "too_many_requests" || first < 10 {
		t.Fatalf("order flood: code %q after %d", code, first)
	}
	// The cart's forms share it; a signed-in user's order does not.
	anon := newBrowser(t, e)
	_, pg := anon.get("/login")
	if resp, _ := anon.post("/cart/add", url.Values{"csrf": {csrfOf(t, pg)}, "channel": {"EU-PLATFORM"}, "sku": {"SAF-1G"}, "units": {"1"}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("cart form from the flooding address: %d, want 429", resp.StatusCode)
	}
	if st := e.JSON("POST", "/api/v1/orders", e.AdminToken, []byte(`{}`), nil); st == http.StatusTooManyRequests {
		t.Fatal("signed-in order limited")
	}
}

// Body limits fit the route, and decoding bounds depth and values before
// building anything: a 1 MB order is 413, 5,000 nested arrays 400 and
// 20,000 tiny values 413, each naming the body; a normal order is still
// created.
func TestOrderBodiesAreBoundedBeforeDecoding(t *testing.T) {
	e := webtest.New(t)
	newPlatform(t, e)

	big := bytes.Repeat([]byte(" "), 1<<20)
	copy(big, `{"channel":"EU-PLATFORM"}`)
	resp, b := e.Do("POST", "/api/v1/orders", "", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), strconv.Itoa(web.DefaultJSONBodyLimit)) {
		t.Fatalf("1 MB order: %d %s, want 413 naming %d bytes", resp.StatusCode, b, web.DefaultJSONBodyLimit)
	}
	// Without a Content-Length (chunked), the body is cut at the limit too.
	resp2, err := http.Post(e.URL("/api/v1/orders"), "application/json", io.MultiReader(bytes.NewReader(big)))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("1 MB chunked order: %d, want 413", resp2.StatusCode)
	}

	nested := `{"lines":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + strings.Repeat(" ", 10_000) + `}`
	resp, b = e.Do("POST", "/api/v1/orders", "", []byte(nested))
	if code, field := errorCode(t, b); resp.StatusCode != http.StatusBadRequest || code != "invalid" || field != "body" {
		t.Fatalf("5,000 nested arrays: %d %s, want 400 naming the body", resp.StatusCode, b)
	}
	many := `{"lines":[` + strings.Repeat("0,", 20_000) + `0]}`
	resp, b = e.Do("POST", "/api/v1/orders", "", []byte(many))
	if code, field := errorCode(t, b); resp.StatusCode != http.StatusRequestEntityTooLarge || code != "too_large" || field != "body" {
		t.Fatalf("20,000 values: %d %s, want 413 naming the body", resp.StatusCode, b)
	}
	if n := e.Count("orders"); n != 0 {
		t.Fatalf("%d orders stored from refused bodies", n)
	}
	if st, _ := placeOrder(t, e, 1, ""); st != http.StatusCreated {
		t.Fatalf("normal order: %d, want 201", st)
	}
}

// TestMemoryUnder64ConcurrentMegabyteBodies is the attack of issue 14: 64
// clients each sending 1 MB of small JSON objects to POST /api/v1/orders
// at once (half with a Content-Length, half chunked). The server answers
// 413/429/503 and nothing else, and its heap grows by a bounded amount
// (before the limits it grew by about 1.4 GB). The figures are logged:
//
//	go test ./web -run TestMemoryUnder64 -count=1 -v
func TestMemoryUnder64ConcurrentMegabyteBodies(t *testing.T) {
	e := webtest.NewWith(t, webtest.Options{Configure: func(c *web.Config) { c.RateLimits, c.Concurrency = web.RateLimits{}, web.Concurrency{} }})
	var buf bytes.Buffer
	buf.WriteString(`{"channel":"EU-PLATFORM","lines":[`)
	for buf.Len() < 1<<20-64 {
		buf.WriteString(`{"sku":"S","units":1},`)
	}
	buf.WriteString(`{"sku":"S","units":1}]}`)
	body := buf.Bytes()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	statuses := make([]int, 64)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r io.Reader = bytes.NewReader(body)
			if i%2 == 1 {
				r = io.MultiReader(r) // no Content-Length: sent chunked
			}
			resp, err := http.Post(e.URL("/api/v1/orders"), "application/json", r)
			if err != nil {
				return // the server may close a connection it refused early
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	counts := map[int]int{}
	for _, st := range statuses {
		counts[st]++
		switch st {
		case 0, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		default:
			t.Errorf("a 1 MB body answered %d", st)
		}
	}
	growth := int64(peak.Load()) - int64(before)
	t.Logf("64 concurrent 1 MB order bodies: heap in use %.1f MB before, peak %.1f MB (+%.1f MB); answers %v",
		float64(before)/(1<<20), float64(peak.Load())/(1<<20), float64(growth)/(1<<20), counts)
	if growth > 200<<20 {
		t.Fatalf("heap grew by %.0f MB under 64 bodies of 1 MB", float64(growth)/(1<<20))
	}
	if resp, _ := e.Do("GET", "/healthz", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz after the attack: %d", resp.StatusCode)
	}
}
