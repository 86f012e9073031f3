package web

import (
	"testing"
	"time"
)

// The limiter tracks at most its size of addresses, forgetting the least
// recently seen, so rotating addresses cannot grow memory; a bucket
// refills at its rate and never above its burst.
func TestLimiterIsBoundedAndRefills(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(RateLimit{Burst: 2, PerMinute: 60}, 3, func() time.Time { return now })
	for i := range 100 {
		l.take(string(rune('a' + i%26)))
	}
	if n := l.tracked(); n != 3 {
		t.Fatalf("tracked %d addresses, want 3", n)
	}
	for range 2 {
		if _, ok := l.take("x"); !ok {
			t.Fatal("burst refused")
		}
	}
	wait, ok := l.take("x")
	if ok || wait != time.Second {
		t.Fatalf("third take: ok=%v wait=%v, want refused for 1s", ok, wait)
	}
	now = now.Add(time.Hour)
	for range 2 {
		if _, ok := l.take("x"); !ok {
			t.Fatal("refilled burst refused")
		}
	}
	if _, ok := l.take("x"); ok {
		t.Fatal("refilled above its burst")
	}
}
