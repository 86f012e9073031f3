package lru_test

import (
	"errors"
	"testing"

	"github.com/terroir-coop/terroir/internal/lru"
)

// TestMemoForgetsWhatAWriteChanged: a value is read once; a Forget makes
// the next Get read again; a read during which a Forget ran is not kept;
// errors are not kept; a nil Memo reads every time.
func TestMemoForgetsWhatAWriteChanged(t *testing.T) {
	stored, reads := 1, 0
	read := func() (int, error) { reads++; return stored, nil }
	m := lru.NewMemo[string, int](1<<10, 8)
	get := func() int {
		t.Helper()
		v, err := m.Get("k", read)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := get(); v != 1 || reads != 1 {
		t.Fatalf("first get %d after %d reads", v, reads)
	}
	if v := get(); v != 1 || reads != 1 {
		t.Fatalf("second get %d after %d reads, want 1 read", v, reads)
	}
	stored = 2
	m.Forget("k")
	if v := get(); v != 2 || reads != 2 {
		t.Fatalf("after a write: %d after %d reads", v, reads)
	}
	// A write lands while a read is under way: what that read found may
	// be the old value, and must not be kept.
	m.Forget("k")
	if v, _ := m.Get("k", func() (int, error) { old := stored; stored = 3; m.Forget("k"); return old, nil }); v != 2 {
		t.Fatalf("racing read returned %d", v)
	}
	if v := get(); v != 3 {
		t.Fatalf("after a write during a read: %d, want the stored 3", v)
	}
	boom := errors.New("down")
	if _, err := m.Get("e", func() (int, error) { return 0, boom }); err != boom {
		t.Fatal(err)
	}
	if v, _ := m.Get("e", func() (int, error) { return 7, nil }); v != 7 {
		t.Fatalf("an error was kept: %d", v)
	}
	var none *lru.Memo[string, int]
	reads = 0
	none.Get("k", read)
	none.Get("k", read)
	none.Forget("k")
	if reads != 2 {
		t.Fatalf("a nil Memo read %d times for 2 gets", reads)
	}
}
