// Package traceability records where every gram came from: cooperatives and
// their members, parcels, harvests, lots and the events that transform,
// pack and move them, and the certifications behind their claims.
//
// Invariants:
//   - A cooperative's code is its identity (_id) and never changes.
//   - Members, parcels and harvests belong to exactly one cooperative, and
//     every read and write is filtered by that cooperative.
//   - Access is decided here, from an explicit access.Actor, never in web.
//   - Every change of a lot (OnLotChange) and of a certificate's status
//     (OnCertificationChange) is announced to this process's subscribers,
//     so the caches of trace pages and catalogues follow at once.
//   - A register import (Preview, Apply) writes every row of a file or
//     none, and never changes a recorded value: it creates, or completes
//     what a record lacks (import_registers.go says why).
//   - A process makes only what the process graph says (plausibility.go,
//     graph.go); what no field or process can give is refused, never stored.
//   - Every lot is explained by its events: quantity + corrections =
//     available + consumed + packed + shipped (audit.go, Verify). Mistakes
//     are corrected by events (corrections.go), never edited in place.
//   - A lot carries a claim only when the certificate's scope covers its
//     kind, every input carries it and it covered every origin parcel.
//   - Every lot records its members' shares as integer weights that add up
//     to its basis exactly: harvest mass for an origin lot, what a
//     transformation took of each input split over that input's shares by
//     largest remainder, the source's shares for a packed lot. A harvest
//     correction reshares every lot made from it, with an event, and keeps
//     the shares before it for what was sold before it (shares.go).
//   - A laboratory result is a tested event of its lot's chain whose note
//     seals every figure and the report's SHA-256; its ISO 3632 category is
//     computed from the one thresholds table (iso3632.go), never typed in.
//     A lot shows its own latest result, or that of the one lot it was
//     packed or sorted from; a blend or any other transformation shows none
//     until tested (quality.go says why). Labels print a category only from
//     it (CategoryMention, CheckCategoryClaim).
//   - Files (laboratory reports, evidence ZIPs) are blobs in chunks whose
//     metadata is written last; a report's type is decided by its content
//     and it is served as an attachment, never as a page (blobs.go).
//   - An evidence file is read-only: it gathers what the records say for a
//     control body (evidence.go); large ones are made in the background
//     (evidence_jobs.go).
//   - A consignment is declared only when every lot carries the EU organic
//     certificate it travels under, valid on the shipping date
//     (consignments.go); receipts at its destination are counted against it.
//
// store.go is the only file that talks to MongoDB.
package traceability
