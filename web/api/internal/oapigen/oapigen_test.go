package oapigen

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

type inner struct {
	Shadowed string `json:"shadowed"`
	Kept     int64  `json:"kept"`
	Hidden1  string
}

type other struct {
	Hidden1 string
}

type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type sample struct {
	inner
	*other
	Shadowed string            `json:"shadowed"` // wins over inner's
	Total    money             `json:"total"`
	Maybe    *money            `json:"maybe"`
	Opt      *money            `json:"opt,omitempty"`
	Lines    []money           `json:"lines"`
	Tags     []string          `json:"tags,omitempty"`
	Names    map[string]string `json:"names"`
	At       time.Time         `json:"at"`
	Paid     time.Time         `json:"paid,omitzero"`
	Struct   money             `json:"struct,omitempty"` // omitempty never omits a struct
	Count    int               `json:"count,string"`
	Any      any               `json:"any"`
	Skipped  string            `json:"-"`
	private  string            //lint:ignore U1000 an unexported field is never written
	Untagged bool
}

type self struct {
	Children []self `json:"children"`
}

type marshals struct{}

func (m marshals) MarshalJSON() ([]byte, error) { return []byte("1"), nil }

func TestSchemaFollowsEncodingJSON(t *testing.T) {
	g := New()
	g.Name(Response, "Sample", sample{})
	g.Name(Response, "Money", money{})
	comps, err := g.Components()
	if err != nil {
		t.Fatal(err)
	}
	s := comps["Sample"]
	props := s["properties"].(Schema)
	var names []string
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"Untagged", "any", "at", "count", "kept", "lines", "maybe", "names", "opt", "paid", "shadowed", "struct", "tags", "total"}
	if !slices.Equal(names, want) {
		t.Errorf("properties %v, want %v (Hidden1 twice untagged at one depth hides both)", names, want)
	}
	wantReq := []string{"Untagged", "any", "at", "count", "kept", "lines", "maybe", "names", "shadowed", "struct", "total"}
	if got := s["required"].([]string); !slices.Equal(got, wantReq) {
		t.Errorf("required %v, want %v", got, wantReq)
	}
	if props["total"].(Schema)["$ref"] != "#/components/schemas/Money" {
		t.Errorf("total: %v, want a reference to Money", props["total"])
	}
	if props["count"].(Schema)["type"] != "string" {
		t.Errorf(",string: %v", props["count"])
	}
	if props["at"].(Schema)["format"] != "date-time" {
		t.Errorf("time.Time: %v", props["at"])
	}

	// The values encoding/json writes pass; a value missing a required
	// member or carrying an undeclared one does not.
	raw, _ := json.Marshal(map[string]any{"openapi": "3.0.3", "info": map[string]any{"title": "t", "version": "1"}, "paths": map[string]any{},
		"components": map[string]any{"schemas": comps}})
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["Sample"].Value
	validate := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var decoded any
		if err := json.Unmarshal(b, &decoded); err != nil {
			t.Fatal(err)
		}
		return schema.VisitJSON(decoded)
	}
	for _, v := range []sample{
		{},
		{inner: inner{Shadowed: "x", Kept: 3}, other: &other{Hidden1: "h"}, Maybe: &money{1, "EUR"}, Opt: &money{2, "MAD"},
			Lines: []money{{3, "EUR"}}, Tags: []string{"a"}, Names: map[string]string{"fr": "safran"}, At: time.Now(), Paid: time.Now(), Any: []int{1}},
	} {
		if err := validate(v); err != nil {
			t.Errorf("encoding/json's own answer refused: %v", err)
		}
	}
	var m map[string]any
	b, _ := json.Marshal(sample{})
	_ = json.Unmarshal(b, &m)
	m["added"] = 1
	if err := schema.VisitJSON(m); err == nil {
		t.Error("an undeclared member passed")
	}
	delete(m, "added")
	delete(m, "kept")
	if err := schema.VisitJSON(m); err == nil {
		t.Error("a missing member passed")
	}
}

func TestRequestRequiresNothingAndRefusesUnknown(t *testing.T) {
	g := New()
	s, err := g.SchemaOf(Request, money{})
	if err != nil {
		t.Fatal(err)
	}
	if s["required"] != nil || s["additionalProperties"] != false {
		t.Errorf("request schema %v", s)
	}
}

func TestRefusesWhatItCannotDescribe(t *testing.T) {
	for name, v := range map[string]any{"self": self{}, "marshaler": marshals{}, "func": func() {}} {
		g := New()
		if _, err := g.SchemaOf(Response, v); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	g := New()
	g.Name(Response, "Self", self{})
	if _, err := g.Components(); err != nil {
		t.Errorf("a named recursive type: %v", err)
	}
	g.Fixed[reflect.TypeFor[marshals]()] = Schema{"type": "integer"}
	if s, err := g.SchemaOf(Response, marshals{}); err != nil || s["type"] != "integer" {
		t.Errorf("fixed: %v %v", s, err)
	}
	if _, err := New().SchemaOf(Response, struct{ F func() }{}); err == nil || !strings.Contains(err.Error(), "F") {
		t.Errorf("the field at fault is not named: %v", err)
	}
}
