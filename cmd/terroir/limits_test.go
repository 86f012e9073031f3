package main

import (
	"testing"

	"github.com/terroir-coop/terroir/web"
)

func TestLoadLimitsFromTheEnvironment(t *testing.T) {
	c, r, err := loadLimits("", "")
	if err != nil || c != (web.Concurrency{}) || r != (web.RateLimits{}) {
		t.Fatalf("empty: %+v %+v %v, want the server's defaults", c, r, err)
	}
	c, r, err = loadLimits("48", "200, 40")
	if err != nil || c != (web.Concurrency{Public: 48, API: 48, Pages: 48}) ||
		r.Reads != (web.RateLimit{Burst: 200, PerMinute: 200}) || r.Writes != (web.RateLimit{Burst: 40, PerMinute: 40}) || r.Off {
		t.Fatalf("48 and 200,40: %+v %+v %v", c, r, err)
	}
	if _, r, err = loadLimits("", "off"); err != nil || !r.Off {
		t.Fatalf("off: %+v %v", r, err)
	}
	for _, bad := range [][2]string{{"0", ""}, {"many", ""}, {"", "120"}, {"", "120,x"}, {"", "0,30"}} {
		if _, _, err := loadLimits(bad[0], bad[1]); err == nil {
			t.Errorf("%q %q accepted", bad[0], bad[1])
		}
	}
}

func TestDefaultMemoryLimitFollowsTheCacheBudget(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct{ budget, want int64 }{
		{web.DefaultCacheBytes, 144 * mib}, // the default: RSS under 200 MiB after the load tool's mix
		{512 * mib, 560 * mib},             // a larger budget raises the limit with it
		{1 * mib, 144 * mib},               // a small one never sets the limit under the live heap
	} {
		if got := memoryLimitFor(c.budget); got != c.want {
			t.Errorf("budget %d MiB: limit %d MiB, want %d", c.budget/mib, got/mib, c.want/mib)
		}
	}
}
