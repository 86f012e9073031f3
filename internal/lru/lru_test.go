package lru

import (
	"fmt"
	"sync"
	"testing"
)

func TestEvictsLeastRecentlyUsedByBytes(t *testing.T) {
	c := New[string, int](100)
	c.Put("a", 1, 40)
	c.Put("b", 2, 40)
	if _, ok := c.Get("a"); !ok { // a is now more recent than b
		t.Fatal("a missing")
	}
	c.Put("c", 3, 40) // 120 > 100: b, the least recently used, goes
	if _, ok := c.Peek("b"); ok {
		t.Error("b kept past the budget")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.Peek(k); !ok {
			t.Errorf("%s evicted, b should have gone", k)
		}
	}
	if s := c.Stats(); s.Bytes != 80 || s.Entries != 2 || s.Evicted != 1 {
		t.Errorf("stats %+v, want 80 bytes in 2 entries, 1 evicted", s)
	}
	c.Put("huge", 4, 101)
	if _, ok := c.Peek("huge"); ok {
		t.Error("an entry larger than the budget was kept")
	}
	if s := c.Stats(); s.Bytes != 80 {
		t.Errorf("a refused entry changed the bytes: %+v", s)
	}
}

func TestGrowEvictsOthersThenItself(t *testing.T) {
	c := New[string, int](100)
	c.Put("a", 1, 30)
	c.Put("b", 2, 30)
	if !c.Grow("b", 50) { // 110: a goes, b (just used) stays
		t.Fatal("b dropped while it fits alone")
	}
	if _, ok := c.Peek("a"); ok {
		t.Error("a kept past the budget")
	}
	if c.Grow("b", 30) { // 110 alone: b cannot fit
		t.Error("b kept beyond the budget")
	}
	if s := c.Stats(); s.Bytes != 0 || s.Entries != 0 {
		t.Errorf("stats %+v, want empty", s)
	}
}

func TestReplaceRemoveIfAndClearKeepBytesRight(t *testing.T) {
	c := New[string, int](1000)
	for i := range 10 {
		c.Put(fmt.Sprint(i), i, 10)
	}
	c.Put("3", 33, 50) // replaced: 10 bytes out, 50 in
	c.RemoveIf(func(_ string, v int) bool { return v%2 == 0 })
	if s := c.Stats(); s.Entries != 5 || s.Bytes != 4*10+50 {
		t.Errorf("stats %+v, want 5 odd entries of 90 bytes", s)
	}
	if v, _ := c.Peek("3"); v != 33 {
		t.Errorf("3 = %d, want the replacement 33", v)
	}
	c.Remove("3")
	c.Clear()
	if s := c.Stats(); s.Entries != 0 || s.Bytes != 0 {
		t.Errorf("stats after clear %+v", s)
	}
}

func TestConcurrentUseStaysWithinBudget(t *testing.T) {
	c := New[int, []byte](10_000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := (g*7919 + i) % 500
				if _, ok := c.Get(k); !ok {
					c.Put(k, make([]byte, 100), 100)
				} else {
					c.Grow(k, 1)
				}
			}
		}()
	}
	wg.Wait()
	if s := c.Stats(); s.Bytes > s.Budget || s.Bytes < 0 {
		t.Errorf("stats %+v: bytes outside the budget", s)
	}
}
