package web_test

import (
	"encoding/json"
	"io"
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

// resolverGet asks a path of the test server the way a scanner or GS1's
// resolver test suite does: without following redirects.
func resolverGet(t *testing.T, e *webtest.Env, method, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// corsOK checks the CORS headers GS1-Conformant Resolver 1.2 asks for
// ("SHALL support CORS"; GET, HEAD and OPTIONS declared, as GS1's test
// suite reads them from Access-Control-Allow-Methods).
func corsOK(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	h := resp.Header
	methods := h.Get("Access-Control-Allow-Methods")
	allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
	if h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(methods, "GET") || !strings.Contains(methods, "HEAD") ||
		!strings.Contains(methods, "OPTIONS") || !strings.Contains(allowed, "accept") || !strings.Contains(allowed, "accept-language") {
		t.Errorf("%s: CORS headers missing: %v", what, h)
	}
}

// scansOf is the scan count the JSON twin of a unit reports after one more
// genuine scan.
func scansOf(t *testing.T, e *webtest.Env, signedPath string) int64 {
	t.Helper()
	var a struct {
		Scans int64 `json:"scans"`
	}
	resp, body := resolverGet(t, e, "GET", signedPath, "Accept", "application/json")
	if resp.StatusCode != 200 || json.Unmarshal(body, &a) != nil {
		t.Fatalf("JSON twin: %d %s", resp.StatusCode, body)
	}
	return a.Scans
}

// TestResolverHeadAndOptions: "SHALL support HTTP 1.1 (or higher) GET,
// HEAD and OPTIONS requests" and "SHALL support CORS" (GS1-Conformant
// Resolver 1.2, as GS1's resolver test suite checks them).
func TestResolverHeadAndOptions(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 10, true)
	unit := traceability.TraceRef{GTIN: "06111234567895", Lot: j.packed.Code, Serial: "03"}
	lot := traceability.TraceRef{GTIN: "06111234567895", Lot: j.packed.Code}
	signed := strings.TrimPrefix(e.Codes.URL(unit), e.Server.URL)
	for _, path := range []string{unit.CanonicalPath(), lot.CanonicalPath(), "/.well-known/gs1resolver", "/.well-known/gs1resolver.json"} {
		resp, body := resolverGet(t, e, "OPTIONS", path, "Origin", "https://scanner.example", "Access-Control-Request-Method", "GET")
		if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
			t.Fatalf("OPTIONS %s: %d %s", path, resp.StatusCode, body)
		}
		if allow := resp.Header.Get("Allow"); allow != "GET, HEAD, OPTIONS" {
			t.Errorf("OPTIONS %s: Allow %q", path, allow)
		}
		corsOK(t, "OPTIONS "+path, resp)

		get, getBody := resolverGet(t, e, "GET", path)
		head, headBody := resolverGet(t, e, "HEAD", path)
		if get.StatusCode != 200 || head.StatusCode != 200 || len(headBody) != 0 || len(getBody) == 0 ||
			head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Fatalf("%s: GET %d %s, HEAD %d %q", path, get.StatusCode, get.Header.Get("Content-Type"), head.StatusCode, headBody)
		}
		corsOK(t, "GET "+path, get)
		corsOK(t, "HEAD "+path, head)
	}
	// The HEAD of a Digital Link carries the Link to the linkset, as GET does.
	head, _ := resolverGet(t, e, "HEAD", unit.CanonicalPath())
	if want := `<` + e.Server.URL + unit.CanonicalPath() + `?linkType=linkset>; rel="linkset"`; !strings.Contains(head.Header.Get("Link"), want) {
		t.Errorf("HEAD Link header %q, want %s", head.Header.Get("Link"), want)
	}
	// A HEAD is no scan: the label's count does not move.
	before := scansOf(t, e, signed)
	for range 3 {
		if resp, _ := resolverGet(t, e, "HEAD", signed); resp.StatusCode != 200 {
			t.Fatalf("HEAD signed: %d", resp.StatusCode)
		}
	}
	if after := scansOf(t, e, signed); after != before+1 {
		t.Errorf("three HEADs counted as scans: %d then %d", before, after)
	}
	// Errors keep CORS, so a web app on another site can read them; an
	// unknown item is 404 and a malformed Digital Link 400 ("SHALL
	// extract and syntactically validate the URI … 400").
	for path, want := range map[string]int{
		"/01/06111234567895/10/NOSUCHLOT":        404,
		"/01/06111234567890/10/" + j.packed.Code: 400, // bad check digit
	} {
		for _, m := range []string{"GET", "HEAD"} {
			resp, _ := resolverGet(t, e, m, path)
			if resp.StatusCode != want {
				t.Errorf("%s %s: %d, want %d", m, path, resp.StatusCode, want)
			}
			corsOK(t, m+" "+path, resp)
		}
	}
	// Other methods stay refused.
	if resp, _ := resolverGet(t, e, "DELETE", unit.CanonicalPath()); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
}
