// Package accounts holds the people who log in: users with bcrypt-hashed
// passwords and a role bound to one organisation, the bearer tokens and
// browser sessions they hold, and the throttle that slows password guessing.
//
// Invariants:
//   - Passwords and tokens are never stored: only bcrypt hashes of passwords
//     and SHA-256 hashes of tokens (a token is 256 random bits, so a fast hash
//     is enough), keyed by that hash so a request costs one _id lookup.
//   - Every token and session expires; an expired one is refused even before
//     the sweeper deletes it.
//   - After too many failed logins for one email or from one address, logins
//     are refused for a while, whatever the password.
//
// store.go is the only file that talks to MongoDB.
package accounts
