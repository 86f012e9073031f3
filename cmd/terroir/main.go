// Command terroir runs the Terroir server and its maintenance subcommands.
//
//	terroir serve [--demo] [--addr :8080] [--data ./data]   run the server
//	terroir seed                                            add the demo network
//	terroir verify                                          check every lot's hash chain
//	terroir backup --out FILE [--url URL --token T]         write a backup (mongodump archive, gzip)
//	terroir restore FILE [--data DIR | --mongodb-uri URI]   load a backup into an empty store
//	terroir import KIND --coop CODE [--dry-run] FILE         import a register (members, parcels, harvests, certifications)
//	terroir user add --email E --role R [--org CODE] [--scope A,B]
//	terroir version
//
// Configuration comes from the environment (TERROIR_ADDR, TERROIR_DATA,
// MONGODB_URI, TERROIR_PUBLIC_URL, TERROIR_QR_KEY, TERROIR_ADMIN_EMAIL,
// TERROIR_ADMIN_PASSWORD, STRIPE_*); flags override it. main builds every
// dependency and passes it down: no package reads the environment itself.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: terroir <command> [flags]

commands:
  serve      run the HTTP server (--demo seeds the demo network)
  seed       add the demo network to the store and exit
  verify     recompute every lot's hash chain and balance; exit 1 on tampering
  backup --out FILE [--url URL --token T]
             write a consistent backup (mongodump archive, gzip, with a manifest):
             of the store itself, or of a running server over its API
  restore FILE [--data DIR | --mongodb-uri URI]
             check a backup, load it into an empty store, rebuild indexes, verify
  import members|parcels|harvests|certifications --coop CODE [--dry-run] [--sheet NAME] [--new-places] FILE
             import a register from CSV, XLSX (parcels also GeoJSON, KML, GPX): all rows or none
  user add   create a user (--email, --role, --org, --scope; password from TERROIR_PASSWORD or stdin)
  version    print the version
`

// run is main without os.Exit, so tests can call it.
func run(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], getenv, stdout, stderr)
	case "seed":
		return seed(args[1:], getenv, stdout, stderr)
	case "verify":
		return verify(args[1:], getenv, stdout, stderr)
	case "import":
		return importCmd(args[1:], getenv, stdout, stderr)
	case "backup":
		return backupCmd(args[1:], getenv, stdout, stderr)
	case "restore":
		return restoreCmd(args[1:], getenv, stdout, stderr)
	case "user":
		return user(args[1:], getenv, stdin, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "terroir %s\n", version)
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "terroir: unknown command %q\n\n%s", args[0], usage)
	return 2
}
