// Package shops holds the sales points of the network — the solidarity shops
// (each a channel selling in MAD) and the EU platform (a channel selling in
// EUR with its own warehouse) — and, in later work, their stock per lot.
//
// A shop's code is its identity (_id) and names its sales channel.
// store.go is the only file that talks to MongoDB.
package shops
