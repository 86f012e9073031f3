// Package imports holds the test that keeps the layout's import direction
// (README "Layout"): it reads the import lines of every Go file of the
// module, tests excluded, and fails on any import the rules forbid.
package imports_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/terroir-coop/terroir"

// layer is how far down a package sits: a package may import packages of a
// lower layer, and of its own layer only where same says so.
var layers = map[string]int{
	"traceability": 1,
	"catalog":      2,
	"shops":        2,
	"orders":       3,
	"web":          4, // web and every web/… package
	"cmd":          5,
}

// webBase are the web packages every audience may use; they import no
// audience and not web itself.
var webBase = []string{"web/page", "web/i18n", "web/labels", "web/catalogcache", "web/accounts", "web/replay"}

// audiences are the web packages that answer one audience; they import no
// other audience and not web (which wires them).
var audiences = []string{"web/trace", "web/storefront", "web/backoffice", "web/api"}

type file struct {
	pkg, path string // package dir relative to the module, file path
	imports   []string
}

func files(t *testing.T) []file {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal("the module root is not two levels up: ", err)
	}
	var out []file
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fl := file{pkg: filepath.ToSlash(filepath.Dir(rel)), path: filepath.ToSlash(rel)}
		for _, im := range f.Imports {
			s, _ := strconv.Unquote(im.Path.Value)
			fl.imports = append(fl.imports, s)
		}
		out = append(out, fl)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func top(pkg string) string { return strings.SplitN(pkg, "/", 2)[0] }

func under(pkg string, list []string) bool {
	return slices.ContainsFunc(list, func(p string) bool { return pkg == p || strings.HasPrefix(pkg, p+"/") })
}

func TestImportsFlowOneWay(t *testing.T) {
	fs := files(t)
	if len(fs) < 100 {
		t.Fatalf("only %d files read: the walk would prove nothing", len(fs))
	}
	checked := 0
	for _, f := range fs {
		for _, im := range f.imports {
			checked++
			if err := allowed(f, im); err != "" {
				t.Errorf("%s imports %s: %s", f.path, im, err)
			}
		}
	}
	if checked < 500 {
		t.Fatalf("only %d imports checked", checked)
	}
}

// allowed says why f may not import im, or "".
func allowed(f file, im string) string {
	from := f.pkg
	own, isOwn := strings.CutPrefix(im, module+"/")
	domain := layers[top(from)] >= 1 && layers[top(from)] <= 3
	switch {
	case strings.HasPrefix(im, "github.com/stripe/stripe-go"):
		// The load tool plays Stripe: it signs the webhooks it sends; so
		// does internal/stripetest, which only tests import.
		if f.path != "orders/stripe.go" && from != "cmd/terroir-load" && from != "internal/stripetest" {
			return "only orders/stripe.go talks to Stripe (behind orders.Payments)"
		}
	case strings.HasPrefix(im, "github.com/skip2/go-qrcode"):
		if from != "web/labels" {
			return "only web/labels draws QR codes"
		}
	case im == "github.com/gin-gonic/gin" || im == "net/http" || strings.HasPrefix(im, "net/http/"):
		// The Stripe adapter is an HTTP client of Stripe's API.
		if (domain || top(from) == "internal") && !(f.path == "orders/stripe.go" && im == "net/http") {
			return "domain and internal packages know nothing of HTTP"
		}
	}
	if !isOwn {
		return ""
	}
	to := own
	if top(from) == "internal" {
		// internal/… is the bottom: it imports only internal/…, except the
		// test fixtures, which build a network of domain services for tests
		// (and that no non-test package may import).
		if top(to) != "internal" && from != "internal/testworld" {
			return "internal packages import only internal packages"
		}
		return ""
	}
	if (to == "internal/testworld" || to == "web/webtest") && from != "web/webtest" {
		return "only tests (and the web test harness) use the test fixtures"
	}
	if top(to) == "internal" {
		return "" // everything may import internal/…
	}
	lf, lt := layers[top(from)], layers[top(to)]
	if lf == 0 || lt == 0 {
		return "a package outside the layout (" + top(from) + " or " + top(to) + "): add it to the layers"
	}
	if lt > lf {
		return "imports flow cmd → web → orders → {catalog, shops} → traceability, never up"
	}
	if lt == lf && top(from) != top(to) && top(from) != "web" {
		return "catalog and shops do not import each other: refer by ID, or let orders orchestrate"
	}
	if top(from) == "web" && top(to) == "web" && from != to {
		switch {
		case from == "web/webtest":
			// The test harness runs the whole server.
		case to == "web":
			return "web wires the audiences: nothing under web imports it"
		case under(from, webBase) && under(to, audiences):
			return "the shared web packages import no audience"
		case under(from, audiences) && under(to, audiences):
			return "audiences do not import each other"
		}
	}
	return ""
}

// TestTheRulesCatchWhatTheyForbid: each forbidden import is refused by
// allowed, so the walk above cannot pass by accident.
func TestTheRulesCatchWhatTheyForbid(t *testing.T) {
	for _, tt := range []struct {
		f  file
		im string
	}{
		{file{pkg: "traceability", path: "traceability/lots.go"}, module + "/shops"},
		{file{pkg: "shops", path: "shops/sales.go"}, module + "/catalog"},
		{file{pkg: "catalog", path: "catalog/products.go"}, module + "/orders"},
		{file{pkg: "orders", path: "orders/orders.go"}, module + "/web/i18n"},
		{file{pkg: "orders", path: "orders/orders.go"}, "github.com/stripe/stripe-go/v76"},
		{file{pkg: "shops", path: "shops/stock.go"}, "net/http"},
		{file{pkg: "catalog", path: "catalog/photos.go"}, "github.com/gin-gonic/gin"},
		{file{pkg: "web/backoffice", path: "web/backoffice/till.go"}, "github.com/skip2/go-qrcode"},
		{file{pkg: "web/backoffice", path: "web/backoffice/till.go"}, module + "/web/storefront"},
		{file{pkg: "web/page", path: "web/page/render.go"}, module + "/web/trace"},
		{file{pkg: "web/api", path: "web/api/lots.go"}, module + "/web"},
		{file{pkg: "web", path: "web/server.go"}, module + "/cmd/terroir"},
		{file{pkg: "internal/problem", path: "internal/problem/problem.go"}, module + "/traceability"},
		{file{pkg: "web/api", path: "web/api/lots.go"}, module + "/internal/testworld"},
		{file{pkg: "cmd/terroir", path: "cmd/terroir/app.go"}, module + "/web/webtest"},
		{file{pkg: "orders", path: "orders/orders.go"}, "net/http"},
	} {
		if allowed(tt.f, tt.im) == "" {
			t.Errorf("%s importing %s is allowed; the rules must refuse it", tt.f.path, tt.im)
		}
	}
	for _, tt := range []struct {
		f  file
		im string
	}{
		{file{pkg: "orders", path: "orders/stripe.go"}, "github.com/stripe/stripe-go/v76"},
		{file{pkg: "web/labels", path: "web/labels/qr.go"}, "github.com/skip2/go-qrcode"},
		{file{pkg: "shops", path: "shops/sales.go"}, module + "/traceability"},
		{file{pkg: "web/backoffice", path: "web/backoffice/till.go"}, module + "/web/labels"},
		{file{pkg: "cmd/terroir", path: "cmd/terroir/app.go"}, module + "/web/i18n"},
		{file{pkg: "traceability", path: "traceability/lots.go"}, module + "/internal/problem"},
	} {
		if why := allowed(tt.f, tt.im); why != "" {
			t.Errorf("%s importing %s is refused (%s); the rules must allow it", tt.f.path, tt.im, why)
		}
	}
}
