package web_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/web/webtest"
)

// traceRenders reads terroir_trace_renders_total from /metrics.
func traceRenders(t *testing.T, e *webtest.Env) int64 {
	t.Helper()
	_, body := e.Do("GET", "/metrics", "", nil)
	m := regexp.MustCompile(`(?m)^terroir_trace_renders_total (\d+)`).FindSubmatch(body)
	if m == nil {
		t.Fatal("/metrics has no terroir_trace_renders_total")
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// TestAClonedLabelIsServedFromTheCacheWithItsWarning: once a unit passes
// the cloned-label threshold its page is still served from the cache (no
// render) and still shows the warning with the live count, gzipped or not.
func TestAClonedLabelIsServedFromTheCacheWithItsWarning(t *testing.T) {
	e := webtest.NewWith(t, webtest.Options{TrustedProxies: []string{"127.0.0.1/32"}})
	p := newPackedSaffron(t, e, true)
	unit := traceURL(t, e, p.packed.Code, "U7")
	phone := func(i int, header ...string) string {
		_, page := getPage(t, e, unit, "en", append([]string{"User-Agent", fmt.Sprintf("phone-%d", i), "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)}, header...)...)
		return page
	}
	for i := 1; i <= 11; i++ {
		page := phone(i)
		if strings.Contains(page, "This code has been scanned") != (i > 10) {
			t.Fatalf("phone %d: warning shown %v", i, !(i > 10))
		}
	}
	before := traceRenders(t, e)
	for i := 12; i <= 14; i++ {
		page := phone(i)
		if !strings.Contains(page, fmt.Sprintf("scanned on %d different phones", i)) {
			t.Fatalf("phone %d: the warning does not give the live count", i)
		}
		if strings.Contains(page, "TERROIRCLONEDWARNING") {
			t.Fatal("the warning's placeholder reached the page")
		}
		again := phone(i) // the same phone again: the count does not move
		if !strings.Contains(again, fmt.Sprintf("scanned on %d different phones", i)) {
			t.Fatalf("phone %d again: warning %q missing", i, fmt.Sprintf("scanned on %d", i))
		}
	}
	plain := phone(15, "Accept-Encoding", "identity") // a client without gzip gets the page as text
	if !strings.Contains(plain, "scanned on 15 different phones") || !strings.Contains(plain, "</html>") {
		t.Fatal("a client without gzip did not get the whole page with its warning")
	}
	if after := traceRenders(t, e); after != before {
		t.Errorf("a unit past the threshold was rendered %d more times; want every scan from the cache", after-before)
	}
	if before == 0 {
		t.Error("no render counted at all: the counter counts nothing")
	}
}

// TestAFirstScanIsAnsweredWithTheBytesTheCacheKeeps: the page rendered on
// a miss is answered gzipped, one layer, with the very bytes kept for the
// next scan; a client without gzip gets it as text. (That the miss no
// longer gzips twice is a cost, measured by BenchmarkColdTracePage.)
func TestAFirstScanIsAnsweredWithTheBytesTheCacheKeeps(t *testing.T) {
	e := webtest.New(t)
	p := newPackedSaffron(t, e, false)
	path := traceURL(t, e, p.packed.Code, "")
	get := func(enc string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.URL(path), nil)
		req.Header.Set("Accept-Language", "fr")
		req.Header.Set("Accept-Encoding", enc) // set by hand: the client leaves the body as sent
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return resp, b
	}
	before := traceRenders(t, e)
	first, miss := get("gzip")
	second, hit := get("gzip")
	if renders := traceRenders(t, e) - before; renders != 1 {
		t.Fatalf("%d renders for two scans, want the first only", renders)
	}
	for _, r := range []*http.Response{first, second} {
		if vary := strings.Join(r.Header.Values("Vary"), ", "); r.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(vary, "Accept-Encoding") {
			t.Fatalf("Content-Encoding %q, Vary %q", r.Header.Get("Content-Encoding"), vary)
		}
	}
	if !bytes.Equal(miss, hit) {
		t.Fatal("the first scan's answer is not the page the cache keeps")
	}
	zr, err := gzip.NewReader(bytes.NewReader(miss))
	if err != nil {
		t.Fatal(err)
	}
	html, err := io.ReadAll(zr)
	if err != nil || !bytes.HasPrefix(bytes.ToLower(bytes.TrimSpace(html)), []byte("<!doctype html>")) || !bytes.Contains(html, []byte("</html>")) {
		t.Fatalf("gunzipped once, the answer is not the page (%v): %.40q", err, html)
	}
	if r, plain := get("identity"); r.Header.Get("Content-Encoding") != "" || !bytes.Equal(plain, html) {
		t.Fatalf("a client without gzip: Content-Encoding %q, same page %v", r.Header.Get("Content-Encoding"), bytes.Equal(plain, html))
	}
}
