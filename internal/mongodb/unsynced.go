package mongodb

import "context"

type unsyncedKey struct{}

// Unsynced marks writes, outside Atomically, that need not be durable when
// they are acknowledged: on the embedded store they skip the fsync of the
// write-ahead log that every other write outside Atomically makes, and
// become durable with the next one (any acknowledged write's or
// Atomically's, or a checkpoint's). SQLite's log keeps commits in order,
// so a power cut loses a suffix of them, never one without those before
// it: what is written this way must be safe to lose and to redo, such as
// folding into counters a batch whose own (synced) write is kept until the
// fold is done. On a replica set it changes nothing.
func Unsynced(ctx context.Context) context.Context {
	return context.WithValue(ctx, unsyncedKey{}, true)
}

func isUnsynced(ctx context.Context) bool { return ctx.Value(unsyncedKey{}) != nil }
