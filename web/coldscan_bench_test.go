package web_test

import (
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/web/webtest"
)

// BenchmarkColdScan scans b.N distinct packed lots once each, in order,
// over loopback HTTP: every scan is the first of its lot, so each one fills
// the trace cache from the store (the lot and what its page names) and
// counts a first scan. Besides ns/op it reports cpu-ns/op, the process's
// user+system CPU per scan (server and client: they share the process, as
// they did before and after any change measured with it).
//
//	go test ./web -run '^$' -bench ColdScan -benchtime 2000x -benchmem
func BenchmarkColdScan(b *testing.B) {
	e := webtest.New(b)
	urls := seedPackedLots(b, e, b.N)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(url string) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d", url, resp.StatusCode)
		}
	}
	get(e.URL("/healthz")) // a connection, and the server's first request, before the clock starts
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := range b.N {
		get(urls[i])
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
