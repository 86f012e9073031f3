package page

import (
	"slices"
	"text/template/parse"
)

// Keys lists the catalogue keys the named pages print from their
// templates: the literal keys of every translation call ({{.L.T "key"}},
// {{$l.T "key"}}, {{.L.Term "vocabulary" "code"}} as "vocabulary.code") in
// each page's file and in every layout, partial and block it reaches. Keys
// a handler prints (computed in Go) are not among them. A name that is not
// a page is answered in unknown.
func (r *Renderer) Keys(names ...string) (keys, unknown []string) {
	for _, name := range names {
		set, ok := r.pages[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		seen := map[string]bool{}
		var visit func(tmpl string)
		visit = func(tmpl string) {
			t := set.Lookup(tmpl)
			if seen[tmpl] || t == nil || t.Tree == nil {
				return
			}
			seen[tmpl] = true
			var calls []string
			WalkKeys(t.Tree.Root, func(k string) { keys = append(keys, k) }, func(n string) { calls = append(calls, n) })
			for _, n := range calls {
				visit(n)
			}
		}
		visit(baseName(name) + ".html")
	}
	slices.Sort(keys)
	return slices.Compact(keys), unknown
}

func baseName(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}

// WalkKeys calls key for the literal keys of the translation calls in a
// template tree (.L.T "key", $l.T "key", and .L.Term "vocabulary" "code"
// when both are literals), and calls, when not nil, for the name of every
// template the tree invokes ({{template "x"}}, {{block "x"}}).
func WalkKeys(n parse.Node, key func(string), calls func(string)) {
	walk := func(n parse.Node) { WalkKeys(n, key, calls) }
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return
		}
		for _, c := range x.Nodes {
			walk(c)
		}
	case *parse.ActionNode:
		walk(x.Pipe)
	case *parse.PipeNode:
		if x == nil {
			return
		}
		for _, c := range x.Cmds {
			walk(c)
		}
	case *parse.CommandNode:
		if len(x.Args) >= 2 {
			method := lastIdent(x.Args[0])
			if s, ok := x.Args[1].(*parse.StringNode); ok {
				switch {
				case method == "T":
					key(s.Text)
				case method == "Term" && len(x.Args) >= 3:
					if code, ok := x.Args[2].(*parse.StringNode); ok {
						key(s.Text + "." + code.Text)
					}
				}
			}
		}
		for _, a := range x.Args {
			walk(a)
		}
	case *parse.IfNode:
		walk(x.Pipe)
		walk(x.List)
		walk(x.ElseList)
	case *parse.RangeNode:
		walk(x.Pipe)
		walk(x.List)
		walk(x.ElseList)
	case *parse.WithNode:
		walk(x.Pipe)
		walk(x.List)
		walk(x.ElseList)
	case *parse.TemplateNode:
		if calls != nil {
			calls(x.Name)
		}
		walk(x.Pipe)
	}
}

func lastIdent(n parse.Node) string {
	var idents []string
	switch x := n.(type) {
	case *parse.FieldNode:
		idents = x.Ident
	case *parse.VariableNode:
		idents = x.Ident
	case *parse.ChainNode:
		idents = x.Field
	}
	if len(idents) == 0 {
		return ""
	}
	return idents[len(idents)-1]
}
