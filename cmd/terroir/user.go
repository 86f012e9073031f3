package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/accounts"
)

// user add creates a user from the command line. On the embedded store it
// needs the data directory, so it runs while the server is stopped (the lock
// refuses otherwise); with a running server, use the admin page or the API.
func user(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: terroir user add --email E --role admin|coop_manager|shop_manager|auditor [--org CODE] [--scope A,B]")
		return 2
	}
	cfg := configFrom(getenv)
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.storeFlags(fs)
	email := fs.String("email", "", "email address (required)")
	role := fs.String("role", "", "admin, coop_manager, shop_manager or auditor (required)")
	org := fs.String("org", "", "cooperative or shop code (coop_manager, shop_manager)")
	scope := fs.String("scope", "", "comma-separated cooperative codes (auditor)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	password := getenv("TERROIR_PASSWORD")
	if password == "" {
		fmt.Fprint(stderr, "password: ")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return errorf(stderr, "no password given (TERROIR_PASSWORD or one line on standard input)")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	var sc []string
	for _, s := range strings.Split(*scope, ",") {
		if s = strings.TrimSpace(s); s != "" {
			sc = append(sc, s)
		}
	}
	ctx := context.Background()
	a, err := openApp(ctx, cfg, newLogger(io.Discard))
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer a.close()
	u, err := a.accounts.CreateUser(ctx, accounts.System, accounts.NewUser{
		Email: *email, Password: password, Role: access.Role(*role), Org: *org, Scope: sc,
	})
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	fmt.Fprintf(stdout, "created %s %s (%s)\n", u.Role, u.Email, u.ID)
	return 0
}
