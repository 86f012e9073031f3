package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/terroir-coop/terroir/web"
)

// loadLimits reads the bounds of issue 14 from the environment's values:
// TERROIR_MAX_REQUESTS, the requests in progress per route group (public
// pages, API, back-office pages; empty: the server's default from
// GOMAXPROCS), and TERROIR_RATE_LIMITS, the anonymous reads and writes
// allowed per address and minute as "reads,writes" (empty: the defaults;
// "off": none, for a load test from one address).
func loadLimits(maxRequests, rateLimits string) (web.Concurrency, web.RateLimits, error) {
	var c web.Concurrency
	var r web.RateLimits
	if maxRequests != "" {
		n, err := strconv.Atoi(maxRequests)
		if err != nil || n < 1 {
			return c, r, fmt.Errorf("TERROIR_MAX_REQUESTS must be a positive whole number, got %q", maxRequests)
		}
		c = web.Concurrency{Public: n, API: n, Pages: n}
	}
	switch rateLimits {
	case "":
	case "off":
		r.Off = true
	default:
		reads, writes, ok := strings.Cut(rateLimits, ",")
		nr, err1 := strconv.Atoi(strings.TrimSpace(reads))
		nw, err2 := strconv.Atoi(strings.TrimSpace(writes))
		if !ok || err1 != nil || err2 != nil || nr < 1 || nw < 1 {
			return c, r, fmt.Errorf("TERROIR_RATE_LIMITS must be \"reads,writes\" a minute per address (e.g. 600,120) or off, got %q", rateLimits)
		}
		r.Reads = web.RateLimit{Burst: nr, PerMinute: nr}
		r.Writes = web.RateLimit{Burst: nw, PerMinute: nw}
	}
	return c, r, nil
}
