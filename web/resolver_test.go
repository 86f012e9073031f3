package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

func TestResolverDescription(t *testing.T) {
	e := webtest.New(t)
	for _, path := range []string{"/.well-known/gs1resolver", "/.well-known/gs1resolver.json"} {
		var d struct {
			Name                        string   `json:"name"`
			ResolverRoot                string   `json:"resolverRoot"`
			SupportedPrimaryKeys        []string `json:"supportedPrimaryKeys"`
			LinkTypeDefaultCanBeLinkset *bool    `json:"linkTypeDefaultCanBeLinkset"`
			SupportedLinkType           []struct {
				Namespace string `json:"namespace"`
				Prefix    string `json:"prefix"`
			} `json:"supportedLinkType"`
		}
		if st := e.JSON("GET", path, "", nil, &d); st != 200 {
			t.Fatalf("%s: %d", path, st)
		}
		if d.Name == "" || d.ResolverRoot != e.Server.URL || len(d.SupportedPrimaryKeys) != 1 || d.SupportedPrimaryKeys[0] != "01" ||
			d.LinkTypeDefaultCanBeLinkset == nil || len(d.SupportedLinkType) != 1 || d.SupportedLinkType[0].Prefix != "gs1:" {
			t.Errorf("%s: %+v", path, d)
		}
	}
}

// TestLinksetListsTheItemsLinks asks the real public route with
// ?linkType=all (the resolver's linkset), as a scanner does.
func TestLinksetListsTheItemsLinks(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 10, true)
	ref := traceability.TraceRef{GTIN: "06111234567895", Lot: j.packed.Code, Serial: "03"}
	signed := e.Codes.URL(ref)
	plain := e.Server.URL + ref.CanonicalPath()
	for _, tt := range []struct {
		name, query, page string
	}{
		{"signed scan", "?linkType=all&s=" + url.QueryEscape(signed[strings.Index(signed, "?s=")+3:]), signed},
		{"altered signature", "?linkType=all&s=AAAAAAAAAAAAAA", plain},
		{"no signature", "?linkType=all", plain},
	} {
		resp, body := e.Do("GET", ref.CanonicalPath()+tt.query, "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/linkset+json" || !strings.Contains(resp.Header.Get("Link"), "linkset-context") {
			t.Fatalf("%s: %d %s %s", tt.name, resp.StatusCode, resp.Header, body)
		}
		type target struct {
			Href     string   `json:"href"`
			Title    string   `json:"title"`
			Hreflang []string `json:"hreflang"`
		}
		var ls struct {
			Linkset []map[string]json.RawMessage `json:"linkset"`
		}
		if err := json.Unmarshal(body, &ls); err != nil || len(ls.Linkset) != 1 {
			t.Fatalf("%s: %v %s", tt.name, err, body)
		}
		set := ls.Linkset[0]
		var anchor string
		_ = json.Unmarshal(set["anchor"], &anchor)
		if anchor != plain {
			t.Errorf("%s: anchor %s, want %s", tt.name, anchor, plain)
		}
		links := func(rel string) []target {
			var out []target
			if err := json.Unmarshal(set["https://gs1.org/voc/"+rel], &out); err != nil || len(out) == 0 || out[0].Title == "" {
				t.Errorf("%s: no %s link: %s", tt.name, rel, body)
				return []target{{}}
			}
			return out
		}
		pip := links("pip")
		langs := slices.Sorted(slices.Values(pip[0].Hreflang))
		if pip[0].Href != tt.page || strings.Join(langs, ",") != "ar,en,fr" {
			t.Errorf("%s: pip %+v, want %s in fr, en and ar", tt.name, pip, tt.page)
		}
		// Titled in the request's language, French by default.
		if !strings.HasPrefix(pip[0].Title, "Traçabilité du lot "+j.packed.Code) {
			t.Errorf("%s: pip title %q", tt.name, pip[0].Title)
		}
		if def := links("defaultLink"); def[0].Href != tt.page {
			t.Errorf("%s: defaultLink %+v", tt.name, def)
		}
		if tr := links("traceability"); tr[0].Href != e.Server.URL+"/api/v1/lots/"+j.packed.Code+"/epcis" {
			t.Errorf("%s: traceability %+v", tt.name, tr)
		}
		if ci := links("certificationInfo"); ci[0].Href != tt.page+"#certifications" {
			t.Errorf("%s: certificationInfo %+v", tt.name, ci)
		}
	}
	// In English for an English scanner, with the product's English name.
	resp, body := e.Do("GET", ref.CanonicalPath()+"?linkType=all", "", nil, "Accept-Language", "en-GB,en;q=0.9")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"title":"Traceability of lot `+j.packed.Code) {
		t.Fatalf("English linkset: %d %s", resp.StatusCode, body)
	}
	// The EPCIS link leads somewhere real.
	if resp, _ := e.Do("GET", "/api/v1/lots/"+j.packed.Code+"/epcis", j.manager, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the traceability link answers %d", resp.StatusCode)
	}
}
