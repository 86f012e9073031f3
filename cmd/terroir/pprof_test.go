package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestPprofOnlyOnLoopback: TERROIR_PPROF serves the profiles on a loopback
// address of their own, and refuses any other.
func TestPprofOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "example.com:6060", "nonsense"} {
		if stop, err := servePprof(addr, newLogger(io.Discard)); err == nil {
			stop()
			t.Errorf("%q accepted", addr)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop, err := servePprof(addr, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	res, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "heap profile") {
		t.Fatalf("heap profile: %d %.200s", res.StatusCode, b)
	}
}
