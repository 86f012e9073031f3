// Command terroir-load seeds a realistic network into an embedded store and
// drives a traffic mix against a running Terroir server on loopback.
//
//	terroir-load seed --data DIR [--scale default|small|large]
//	terroir-load run --url http://127.0.0.1:8080 --data DIR --duration 30s --concurrency 16 \
//	    --admin-email E --admin-password P --webhook-secret whsec_… [--mix full|writes|sales|cold|products|healthz] [--pid PID]
//	    [--scanners N]
//
// seed writes documents straight into the store with batched InsertMany (the
// server must be stopped: the embedded store is owned by one process), then
// opens the store the way serve does so its indexes exist. The documents are
// the real types (traceability.Lot with hash-chained events sealed by
// traceability.SealEvent, shops.Balance with its movements, shops.Shelf…),
// so `terroir verify` passes on a seeded store. Every lot is a packed lot
// whose origin lines name the harvests it came from: the network has no
// intermediate (dried, pressed) lots, which the trace page does not need.
//
// The default scale is 30 cooperatives, 3 000 members, 10 000 parcels,
// 60 000 harvests, 10 000 packed lots, 1 000 products, 5 shops (four tills
// in MAD and the EU platform in EUR) and 20 000 stocked lots (each lot on
// the shelves of two shops); small is one tenth, for tests; large is ten
// times (100 000 lots, 10 000 products), to show what grows with the
// number of lots. seed writes
// load-manifest.json next to the store's files: the lot codes, SKUs and
// shops that run picks from.
//
// run computes the signed trace URLs of the lots with TERROIR_QR_KEY (the
// server must run with the same key, and with TERROIR_RATE_LIMITS=off to
// measure the services: all its clients are one address, which the
// per-address limits would answer 429), and refuses any URL whose host is not
// a loopback address. The mix is 80 % QR scans, 8 % catalogue (JSON and the
// /shop page), 8 % till sales, 4 % online orders each followed by a signed
// checkout.session.completed webhook. It stops at --duration or --requests,
// whichever comes first. --mix writes sends only till sales and orders,
// --mix sales only till sales (writes/s against the disk's fsync rate), and
// --mix cold scans every lot once in a random order, so that no scan finds
// a cache of the server warm (it may run up to 3 minutes, for the large
// scale). With --pid, the server's CPU time per request and its resident
// memory after the run are read from /proc. With --scanners N the scans come
// from N distinct clients named in X-Forwarded-For (the server trusting
// 127.0.0.1 as a proxy), so the scan counters of many codes move, as they
// do when many phones scan.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `usage: terroir-load <command> [flags]

commands:
  seed   --data DIR [--scale default|small|large]  seed a network into a stopped embedded store
  run    --url http://127.0.0.1:PORT --data DIR    drive the mix against a running server (loopback only)
         [--mix full|writes|sales|cold|products|healthz] [--concurrency 16] [--duration 30s] [--pid PID] [--scanners N]
`

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "seed":
		return seedCmd(args[1:], stdout, stderr)
	case "run":
		return runCmd(args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "terroir-load: unknown command %q\n\n%s", args[0], usage)
	return 2
}
