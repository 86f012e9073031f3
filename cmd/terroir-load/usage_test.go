package main

import (
	"os"
	"testing"
	"time"
)

// TestReadUsage reads this test process from /proc: a resident set of at
// least its heap, and CPU time that grows with work.
func TestReadUsage(t *testing.T) {
	before, err := readUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if before.RSS < 1<<20 {
		t.Fatalf("RSS %d bytes: not the resident set", before.RSS)
	}
	// Burn CPU until the clock tick (10 ms) moves.
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for time.Now().Before(deadline) {
		for i := range 1_000_000 {
			x += i
		}
		after, err := readUsage(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after.CPU > before.CPU {
			return
		}
	}
	t.Fatalf("CPU time never moved (%d)", x)
}

func TestReadUsageOfNoProcess(t *testing.T) {
	if _, err := readUsage(-1); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
