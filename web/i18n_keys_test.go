package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/currency"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
	"github.com/terroir-coop/terroir/web/webtest"
)

// TestEveryLanguageHasEveryKey fails when a language lacks a key that a
// template, the code or a vocabulary uses, naming each missing key. Keys
// are found where they are used: the translation calls of every parsed
// template ({{.L.T "key"}}, {{$l.Term "vocabulary" "code"}}), the domain
// errors' format strings in the Go sources (problem.New, problem.Field,
// the helpers that forward a format to them, literal problem.Errors), the
// literal keys of the code's L.T calls and flash messages, the fields
// errors name (field.*), and every code of every vocabulary. English is
// the source language: it may leave a domain error's key untranslated
// (the key is its text), and must have everything else.
func TestEveryLanguageHasEveryKey(t *testing.T) {
	e := webtest.New(t)
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]string{} // key → where it is used
	errorKeys := map[string]bool{}

	// Templates.
	pages := e.Web.Templates()
	for name, set := range pages.Templates() {
		for _, tmpl := range set.Templates() {
			if tmpl.Tree == nil {
				continue
			}
			page.WalkKeys(tmpl.Tree.Root, func(key string) { used[key] = name + " " + tmpl.Name() }, nil)
		}
	}
	if len(used) < 300 {
		t.Fatalf("only %d keys found in the templates: the walk misses the translation calls", len(used))
	}

	// Go sources.
	fromTemplates := len(used)
	keys, fields := sourceKeys(t, moduleRoot(t))
	for k, where := range keys {
		if where.domain {
			errorKeys[k] = true
		}
		used[k] = where.pos
	}
	for f, where := range fields {
		used["field."+f] = where
	}
	if len(errorKeys) < 150 || len(used)-fromTemplates < 200 {
		t.Fatalf("only %d error keys and %d keys found in the sources: the walk misses the constructors", len(errorKeys), len(used)-fromTemplates)
	}

	// Vocabularies: every code has one name in every language.
	vocab := map[string][]string{
		"kind":         traceability.ProductKinds(),
		"step":         append([]string{"harvest", "packing"}, traceability.Processes...),
		"status":       {traceability.StatusValid, traceability.StatusSuspended, traceability.StatusWithdrawn, traceability.StatusExpired},
		"event":        {traceability.EventCreated, traceability.EventConsumed, traceability.EventTransformed, traceability.EventPacked, traceability.EventShipped, traceability.EventReceived, traceability.EventSold, traceability.EventAdjusted, traceability.EventFlagged, traceability.EventJustified, traceability.EventReturned},
		"source":       {traceability.SourceHarvest, traceability.SourceTransformation, traceability.SourcePacking},
		"coop_kind":    traceability.CooperativeKinds,
		"movement":     {shops.MoveReceipt, shops.MoveTransferOut, shops.MoveTransferIn, shops.MoveSale, shops.MoveReturn, shops.MoveAdjustment, shops.MoveLoss},
		"payment":      shops.Payments,
		"shop_kind":    {shops.KindBoutique, shops.KindPlatform},
		"order_status": {orders.StatusPendingPayment, orders.StatusPaid, orders.StatusFulfilled, orders.StatusDelivered, orders.StatusExpired, orders.StatusCancelled, orders.StatusRefunded},
		"order_need":   {"paid", "fulfilled", "paid, fulfilled or delivered", "unpaid", "unpaid or paid and not shipped"},
		"country":      orders.ShipsTo(),
		"role":         {string(access.Admin), string(access.CoopManager), string(access.ShopManager), string(access.Auditor)},
		"dimension":    {traceability.DimensionMass, traceability.DimensionVolume, traceability.DimensionCount},
		// The display units of Locale.Quantity (traceability.ShowQuantity's ladder).
		"unit": {"mg", "g", "kg", "ml", "l", "pcs"},
	}
	for v, codes := range vocab {
		for _, code := range codes {
			used[v+"."+code] = "vocabulary " + v
		}
	}
	for _, cur := range currency.Codes {
		used["money."+cur] = "currency " + cur
	}

	for _, l := range bundle.Languages() {
		var missing []string
		for k, where := range used {
			if l.Has(k) || (l.Code() == i18n.Source && errorKeys[k]) {
				continue
			}
			missing = append(missing, strconv.Quote(k)+" ("+where+")")
		}
		slices.Sort(missing)
		if len(missing) > 0 {
			t.Errorf("%s lacks %d keys:\n%s", l.Code(), len(missing), strings.Join(missing, "\n"))
		}
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

type keyUse struct {
	pos    string
	domain bool // a domain error's format string (English may omit it)
}

var fieldIndex = regexp.MustCompile(`\[%d\]|\[\d+\]`)

// sourceKeys walks the module's Go sources (tests excluded) for the keys
// they use and the request fields their errors name.
func sourceKeys(t *testing.T, root string) (map[string]keyUse, map[string]string) {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	literal := func(e ast.Expr) (string, bool) {
		b, ok := e.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(b.Value)
		return s, err == nil
	}
	// inProblem is set while walking package problem itself, whose own
	// checks (RequireText, OneOf) call New and Field unqualified.
	inProblem := false
	isProblem := func(c *ast.CallExpr) bool {
		if len(c.Args) < 2 {
			return false
		}
		if id, ok := c.Fun.(*ast.Ident); ok {
			return inProblem && (id.Name == "New" || id.Name == "Field")
		}
		sel, ok := c.Fun.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		id, ok := sel.X.(*ast.Ident)
		return ok && id.Name == "problem" && (sel.Sel.Name == "New" || sel.Sel.Name == "Field")
	}
	// Helpers that forward one of their parameters as the format.
	helpers := map[string]int{}
	for _, f := range files {
		inProblem = f.Name.Name == "problem"
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			params := map[string]int{}
			i := 0
			for _, fl := range fd.Type.Params.List {
				for _, n := range fl.Names {
					params[n.Name] = i
					i++
				}
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok && isProblem(c) {
					if id, ok := c.Args[1].(*ast.Ident); ok {
						if idx, ok := params[id.Name]; ok {
							helpers[fd.Name.Name] = idx
						}
					}
				}
				return true
			})
		}
	}
	keys := map[string]keyUse{}
	fields := map[string]string{}
	addField := func(e ast.Expr, pos string) {
		s, ok := literal(e)
		if !ok {
			if c, isCall := e.(*ast.CallExpr); isCall && len(c.Args) > 0 {
				if sel, isSel := c.Fun.(*ast.SelectorExpr); isSel && sel.Sel.Name == "Sprintf" {
					s, ok = literal(c.Args[0])
					s = fieldIndex.ReplaceAllString(s, "")
				}
			}
		}
		if ok && s != "" {
			fields[i18n.FieldName(s)] = pos
		}
	}
	for _, f := range files {
		inProblem = f.Name.Name == "problem"
		ast.Inspect(f, func(n ast.Node) bool {
			pos := func() string {
				p := fset.Position(n.Pos())
				return strings.TrimPrefix(p.Filename, root+"/") + ":" + strconv.Itoa(p.Line)
			}
			switch x := n.(type) {
			case *ast.CallExpr:
				if isProblem(x) {
					if s, ok := literal(x.Args[1]); ok {
						keys[s] = keyUse{pos(), true}
					}
					if name := calleeName(x); name == "Field" {
						addField(x.Args[0], pos())
					}
					return true
				}
				if id, ok := x.Fun.(*ast.Ident); ok {
					if i, ok := helpers[id.Name]; ok && len(x.Args) > i {
						if s, ok := literal(x.Args[i]); ok {
							keys[s] = keyUse{pos(), true}
						}
					}
				}
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				switch {
				case sel.Sel.Name == "At" && len(x.Args) == 1:
					addField(x.Args[0], pos())
				case sel.Sel.Name == "T" && len(x.Args) >= 1:
					if s, ok := literal(x.Args[0]); ok {
						keys[s] = keyUse{pos(), false}
					}
				case sel.Sel.Name == "Term" && len(x.Args) == 2:
					v, ok1 := literal(x.Args[0])
					c, ok2 := literal(x.Args[1])
					if ok1 && ok2 {
						keys[v+"."+c] = keyUse{pos(), false}
					}
				case sel.Sel.Name == "Redirect" && len(x.Args) >= 3:
					if s, ok := literal(x.Args[2]); ok {
						keys[s] = keyUse{pos(), false}
					}
				case sel.Sel.Name == "done" && len(x.Args) >= 5:
					if s, ok := literal(x.Args[4]); ok {
						keys[s] = keyUse{pos(), false}
					}
				}
			case *ast.CompositeLit:
				if n := typeName(x.Type); n != "Error" && n != "FieldError" {
					return true
				}
				for _, el := range x.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Message" {
						if s, ok := literal(kv.Value); ok {
							keys[s] = keyUse{pos(), true}
						}
					}
				}
			}
			return true
		})
	}
	return keys, fields
}

func typeName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.StarExpr:
		return typeName(x.X)
	}
	return ""
}

// calleeName is the name a call calls: f in f(…) and in pkg.f(…).
func calleeName(c *ast.CallExpr) string {
	switch f := c.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}
