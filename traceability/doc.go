// Package traceability records where every gram came from: cooperatives and
// their members, parcels, harvests, lots and the events that transform,
// pack and move them, and the certifications behind their claims.
//
// Invariants:
//   - A cooperative's code is its identity (_id) and never changes.
//   - Members, parcels and harvests belong to exactly one cooperative, and
//     every read and write is filtered by that cooperative.
//   - Access is decided here, from an explicit access.Actor, never in web.
//   - A register import (Preview, Apply) writes every row of a file or
//     none, and never changes a recorded value: it creates, or completes
//     what a record lacks (import_registers.go says why).
//
// store.go is the only file that talks to MongoDB.
package traceability
