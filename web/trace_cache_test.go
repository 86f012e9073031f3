package web_test

import (
	"fmt"
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
