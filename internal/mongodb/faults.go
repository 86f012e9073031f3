package mongodb

import (
	"errors"
	"sync/atomic"
	"testing"
)

// Fault injection, for the tests that prove Atomically all-or-nothing by
// failing or "killing the process" at every write of a change. It exists
// only in test binaries: InjectWriteFault panics in any other.
//
// A write point is each write Atomically makes on the embedded store: every
// journal insert, every data write, the commit marker and the journal
// cleanup, counted in order from the injection.

// FaultMode says what happens at the chosen write point.
type FaultMode int

const (
	// FailWrite makes that one write fail (as a full disk would); the
	// process goes on and rolls the change back.
	FailWrite FaultMode = iota + 1
	// CrashAtWrite stops the store there as if the process had been
	// killed: that write and every later one fail, nothing is undone, and
	// Close leaves the data directory unclean. Reopen it to recover.
	CrashAtWrite
)

// ErrSimulatedCrash is what a store "killed" by CrashAtWrite answers.
var ErrSimulatedCrash = errors.New("mongodb: simulated crash (test fault injection)")

// errInjectedFault is the error of a FailWrite point.
var errInjectedFault = errors.New("mongodb: injected write failure (test fault injection)")

type faultPlan struct {
	at    int64
	mode  FaultMode
	seen  atomic.Int64
	fired atomic.Bool
}

// InjectWriteFault arms a fault at the n-th write point (1-based) from now;
// n <= 0 disarms. It panics outside a test binary, so no build that serves
// can carry an armed fault.
func (s *Store) InjectWriteFault(n int, mode FaultMode) {
	if !testing.Testing() {
		panic("mongodb: InjectWriteFault is for tests only")
	}
	if n <= 0 {
		s.fault.Store(nil)
		return
	}
	s.fault.Store(&faultPlan{at: int64(n), mode: mode})
}

// FaultFired reports whether the armed fault was reached, and how many
// write points were passed since it was armed.
func (s *Store) FaultFired() (bool, int) {
	f := s.fault.Load()
	if f == nil {
		return false, 0
	}
	return f.fired.Load(), int(f.seen.Load())
}

// point is passed before each write of Atomically on the embedded store.
func (s *Store) point() error {
	if s.crashed.Load() {
		return ErrSimulatedCrash
	}
	f := s.fault.Load()
	if f == nil {
		return nil
	}
	if f.seen.Add(1) != f.at {
		return nil
	}
	f.fired.Store(true)
	if f.mode == CrashAtWrite {
		s.crashed.Store(true)
		return ErrSimulatedCrash
	}
	return errInjectedFault
}
