// Package oapigen writes OpenAPI 3.0 schemas of Go types exactly as
// encoding/json writes and reads their values, so the schemas of the API's
// answers and request bodies are derived from the structs the handlers use
// and cannot drift from them.
//
// The rules follow encoding/json: a field's name is its json tag's or its Go
// name; "-" is skipped; embedded structs without a name are flattened, the
// shallowest field winning and, at one depth, the tagged one (two untagged
// ones at one depth hide each other); ",string" makes a string. An answer
// (Response) requires every field that encoding/json always writes: not
// omitempty on a kind it omits when empty, not omitzero, not under an
// embedded pointer. A slice, map, pointer or interface that is always
// written may be null. An answer's objects refuse properties they do not
// declare, so a test validating real answers catches a field the Go type
// lost. A request body (Request) is decoded with DisallowUnknownFields: its
// objects refuse unknown properties too, and require nothing (which fields
// are required is the services' rule, written by hand).
//
// A type that marshals itself (json.Marshaler, encoding.TextMarshaler) must
// be given its schema (Fixed); a recursive struct must be named; anything
// else is an error, never a guess.
package oapigen

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
)

// Schema is an OpenAPI schema object, marshalled with sorted keys.
type Schema = map[string]any

// Mode says which side of the API a type is on.
type Mode int

// The two sides.
const (
	Response Mode = iota // written by the server
	Request              // read by the server, strictly
)

// Generator turns Go types into schemas. Named types become
// components/schemas entries referenced with $ref; every other struct is
// written inline.
type Generator struct {
	// Fixed are the schemas of types that marshal themselves, and of any
	// type whose schema is not the one reflection would give.
	Fixed map[reflect.Type]Schema

	names      [2]map[reflect.Type]string
	components map[string]Schema
	visiting   map[reflect.Type]bool
}

// New returns a Generator knowing time.Time, time.Duration and
// json.RawMessage.
func New() *Generator {
	return &Generator{
		Fixed: map[reflect.Type]Schema{
			reflect.TypeFor[time.Time]():       {"type": "string", "format": "date-time"},
			reflect.TypeFor[time.Duration]():   {"type": "integer", "format": "int64"},
			reflect.TypeFor[json.RawMessage](): {},
		},
		names:      [2]map[reflect.Type]string{{}, {}},
		components: map[string]Schema{},
		visiting:   map[reflect.Type]bool{},
	}
}

// Name makes components/schemas/name the schema of v's type on side m; a
// field of that type elsewhere on the same side refers to it.
func (g *Generator) Name(m Mode, name string, v any) {
	t := reflect.TypeOf(v)
	for _, other := range g.names {
		for ot, n := range other {
			if n == name && ot != t {
				panic(fmt.Sprintf("oapigen: %s names both %s and %s", name, ot, t))
			}
		}
	}
	g.names[m][t] = name
}

// Components returns the schemas of every named type, or the first type
// that cannot be described.
func (g *Generator) Components() (map[string]Schema, error) {
	for m, names := range g.names {
		types := make([]reflect.Type, 0, len(names))
		for t := range names {
			types = append(types, t)
		}
		sort.Slice(types, func(i, j int) bool { return names[types[i]] < names[types[j]] })
		for _, t := range types {
			s, err := g.body(Mode(m), t)
			if err != nil {
				return nil, fmt.Errorf("%s (%s): %w", names[t], t, err)
			}
			g.components[names[t]] = s
		}
	}
	return g.components, nil
}

// SchemaOf returns the schema of v's type on side m, inline unless named.
func (g *Generator) SchemaOf(m Mode, v any) (Schema, error) {
	return g.schema(m, reflect.TypeOf(v))
}

var (
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// custom reports whether values of t choose their own JSON on side m.
func custom(m Mode, t reflect.Type) bool {
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface {
		return false
	}
	implements := func(i reflect.Type) bool { return t.Implements(i) || reflect.PointerTo(t).Implements(i) }
	if m == Request {
		return implements(jsonUnmarshaler) || implements(textUnmarshaler)
	}
	return implements(jsonMarshaler) || implements(textMarshaler)
}

// schema is the schema of a value of type t: a reference when t is named.
func (g *Generator) schema(m Mode, t reflect.Type) (Schema, error) {
	if name, ok := g.names[m][t]; ok {
		return Schema{"$ref": "#/components/schemas/" + name}, nil
	}
	return g.body(m, t)
}

// body is t's own schema, never a reference to t itself.
func (g *Generator) body(m Mode, t reflect.Type) (Schema, error) {
	if s, ok := g.Fixed[t]; ok {
		return clone(s), nil
	}
	if custom(m, t) {
		return nil, fmt.Errorf("%s marshals or unmarshals itself: give its schema in Fixed", t)
	}
	switch t.Kind() {
	case reflect.Bool:
		return Schema{"type": "boolean"}, nil
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return Schema{"type": "integer", "format": "int64"}, nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return Schema{"type": "integer", "format": "int32"}, nil
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}, nil
	case reflect.String:
		return Schema{"type": "string"}, nil
	case reflect.Interface:
		return Schema{}, nil
	case reflect.Pointer:
		return g.schema(m, t.Elem())
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return Schema{"type": "string", "format": "byte"}, nil
		}
		items, err := g.schema(m, t.Elem())
		if err != nil {
			return nil, err
		}
		s := Schema{"type": "array", "items": items}
		if t.Kind() == reflect.Array {
			s["minItems"], s["maxItems"] = t.Len(), t.Len()
		}
		return s, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String && !t.Key().Implements(textMarshaler) &&
			(t.Key().Kind() < reflect.Int || t.Key().Kind() > reflect.Uint64) {
			return nil, fmt.Errorf("map key %s is not written as a JSON key", t.Key())
		}
		v, err := g.schema(m, t.Elem())
		if err != nil {
			return nil, err
		}
		return Schema{"type": "object", "additionalProperties": v}, nil
	case reflect.Struct:
		return g.object(m, t)
	}
	return nil, fmt.Errorf("%s (%s) has no JSON form", t, t.Kind())
}

// field is one JSON member of a struct.
type field struct {
	name     string
	index    []int
	typ      reflect.Type
	tagged   bool
	omit     bool // omitempty
	omitZero bool
	quoted   bool // ,string
	optional bool // under an embedded pointer
}

func (g *Generator) object(m Mode, t reflect.Type) (Schema, error) {
	if g.visiting[t] {
		return nil, fmt.Errorf("%s contains itself: name it", t)
	}
	g.visiting[t] = true
	defer delete(g.visiting, t)
	props := Schema{}
	var required []string
	for _, f := range fields(t) {
		s, err := g.schema(m, f.typ)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.name, err)
		}
		if f.quoted {
			s = Schema{"type": "string"}
		}
		always := !f.optional && !f.omitZero && !(f.omit && emptyOmits(f.typ))
		if m == Response && always {
			required = append(required, f.name)
			if nullable(f.typ) {
				s = nullableOf(s)
			}
		}
		if m == Request && nullable(f.typ) {
			s = nullableOf(s) // null decodes into any of them as the zero value
		}
		props[f.name] = s
	}
	s := Schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		s["required"] = required
	}
	return s, nil
}

// emptyOmits reports whether omitempty leaves out the empty values of t
// (encoding/json never leaves out a struct).
func emptyOmits(t reflect.Type) bool {
	return t.Kind() != reflect.Struct
}

// nullable reports whether a value of t can be written as null.
func nullable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface:
		return true
	}
	return false
}

func nullableOf(s Schema) Schema {
	if len(s) == 0 {
		// Anything, null included. OpenAPI 3.0 has no type for "any", and
		// nullable wants a type beside it: one alternative carries null.
		return Schema{"anyOf": []any{
			Schema{"type": "object", "nullable": true}, Schema{"type": "array", "items": Schema{}},
			Schema{"type": "string"}, Schema{"type": "number"}, Schema{"type": "boolean"},
		}}
	}
	if _, ok := s["$ref"]; ok {
		return Schema{"type": "object", "nullable": true, "allOf": []any{s}}
	}
	s = clone(s)
	if s["type"] == nil {
		return Schema{"nullable": true, "allOf": []any{s}}
	}
	s["nullable"] = true
	return s
}

func clone(s Schema) Schema {
	c := make(Schema, len(s))
	for k, v := range s {
		c[k] = v
	}
	return c
}

// fields lists t's JSON members in declaration order, by encoding/json's
// rules for embedded structs.
func fields(t reflect.Type) []field {
	type level struct {
		typ      reflect.Type
		index    []int
		optional bool
	}
	var all []field
	current := []level{{typ: t}}
	seen := map[reflect.Type]bool{}
	for len(current) > 0 {
		var next []level
		var here []field
		for _, l := range current {
			if seen[l.typ] {
				continue
			}
			seen[l.typ] = true
			for i := range l.typ.NumField() {
				sf := l.typ.Field(i)
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				ft := sf.Type
				if sf.Anonymous {
					et := ft
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
					if name == "" && et.Kind() == reflect.Struct {
						next = append(next, level{typ: et, index: append(append([]int{}, l.index...), i),
							optional: l.optional || ft.Kind() == reflect.Pointer})
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				f := field{name: name, index: append(append([]int{}, l.index...), i), typ: ft, tagged: name != "", optional: l.optional}
				if f.name == "" {
					f.name = sf.Name
				}
				for o := range strings.SplitSeq(opts, ",") {
					switch o {
					case "omitempty":
						f.omit = true
					case "omitzero":
						f.omitZero = true
					case "string":
						switch ft.Kind() {
						case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64, reflect.String:
							f.quoted = true
						}
					}
				}
				here = append(here, f)
			}
		}
		// At one depth, a name given twice goes to the one tagged field;
		// otherwise to nobody. A name known from a shallower depth wins.
		byName := map[string][]int{}
		for i, f := range here {
			byName[f.name] = append(byName[f.name], i)
		}
		known := map[string]bool{}
		for _, f := range all {
			known[f.name] = true
		}
		for i, f := range here {
			if known[f.name] {
				continue
			}
			rivals := byName[f.name]
			if len(rivals) > 1 {
				tagged := 0
				for _, j := range rivals {
					if here[j].tagged {
						tagged++
					}
				}
				if tagged != 1 || !f.tagged {
					continue
				}
			}
			all = append(all, here[i])
		}
		for _, f := range all {
			known[f.name] = true
		}
		current = next
	}
	sort.SliceStable(all, func(i, j int) bool { return lessIndex(all[i].index, all[j].index) })
	return all
}

func lessIndex(a, b []int) bool {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}
