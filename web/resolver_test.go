package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web"
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

func TestLinksetListsTheItemsLinks(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 10, true)
	srv, err := web.New(web.Config{Version: "test", PublicURL: e.Server.URL}, web.Deps{Codes: e.Codes, Store: e.Store,
		Accounts: e.Accounts, Traceability: e.Traceability, Shops: e.Shops, Catalog: e.Catalog})
	if err != nil {
		t.Fatal(err)
	}
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
		w := httptest.NewRecorder()
		srv.ServeLinksetForTest(w, httptest.NewRequest("GET", ref.CanonicalPath()+tt.query, nil))
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/linkset+json" || !strings.Contains(w.Header().Get("Link"), "linkset-context") {
			t.Fatalf("%s: %d %s %s", tt.name, w.Code, w.Header(), w.Body)
		}
		type target struct {
			Href     string   `json:"href"`
			Title    string   `json:"title"`
			Hreflang []string `json:"hreflang"`
		}
		var ls struct {
			Linkset []map[string]json.RawMessage `json:"linkset"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &ls); err != nil || len(ls.Linkset) != 1 {
			t.Fatalf("%s: %v %s", tt.name, err, w.Body)
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
				t.Errorf("%s: no %s link: %s", tt.name, rel, w.Body)
				return []target{{}}
			}
			return out
		}
		if pip := links("pip"); pip[0].Href != tt.page || strings.Join(pip[0].Hreflang, ",") != "fr,en,ar" {
			t.Errorf("%s: pip %+v, want %s", tt.name, pip, tt.page)
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
	// The EPCIS link leads somewhere real.
	if resp, _ := e.Do("GET", "/api/v1/lots/"+j.packed.Code+"/epcis", j.manager, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the traceability link answers %d", resp.StatusCode)
	}
}
