package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

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

// TestResolverDescriptionKeepsToTheSchema holds the description file to
// the GS1-Conformant Resolver 1.2 description-file schema
// (https://ref.gs1.org/standards/resolver/1.2.0/description-file-schema):
// only members it defines, each of its type — resolverRoot an absolute
// URI, primary keys from its enumeration of numeric AIs, CURIE prefixes
// matching its pattern — readable from any origin.
func TestResolverDescriptionKeepsToTheSchema(t *testing.T) {
	e := webtest.New(t)
	schemaKeys := []string{"01", "8006", "8013", "8010", "410", "411", "412", "413", "414", "415", "417", "8017", "8018", "255", "00", "253", "401", "402", "8003", "8004", "all"}
	prefix := regexp.MustCompile(`^[a-zA-Z_][A-Za-z0-9_-]*?:$`)
	for _, lang := range []string{"fr", "en", "ar"} {
		resp, body := resolverGet(t, e, "GET", "/.well-known/gs1resolver", "Accept", "application/json", "Accept-Language", lang)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %s", lang, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		corsOK(t, "description", resp)
		var d map[string]json.RawMessage
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatal(err)
		}
		for member := range d {
			if !slices.Contains([]string{"name", "resolverRoot", "supportedPrimaryKeys", "supportedLinkType", "linkTypeDefaultCanBeLinkset", "jsonLdContextLocation", "contact"}, member) {
				t.Errorf("%s: member %q is not in the 1.2 description-file schema", lang, member)
			}
		}
		var f struct {
			Name                        string   `json:"name"`
			ResolverRoot                string   `json:"resolverRoot"`
			SupportedPrimaryKeys        []string `json:"supportedPrimaryKeys"`
			LinkTypeDefaultCanBeLinkset *bool    `json:"linkTypeDefaultCanBeLinkset"`
			SupportedLinkType           []struct {
				Namespace string `json:"namespace"`
				Prefix    string `json:"prefix"`
			} `json:"supportedLinkType"`
			JSONLDContextLocation string `json:"jsonLdContextLocation"`
			Contact               struct {
				Fn string `json:"fn"`
			} `json:"contact"`
		}
		if err := json.Unmarshal(body, &f); err != nil {
			t.Fatalf("%s: a member has the wrong type: %v", lang, err)
		}
		if u, err := url.Parse(f.ResolverRoot); err != nil || !u.IsAbs() || f.ResolverRoot != e.Server.URL {
			t.Errorf("%s: resolverRoot %q", lang, f.ResolverRoot)
		}
		for _, k := range f.SupportedPrimaryKeys {
			if !slices.Contains(schemaKeys, k) {
				t.Errorf("%s: primary key %q is not a numeric AI of the schema", lang, k)
			}
		}
		for _, lt := range f.SupportedLinkType {
			if u, err := url.Parse(lt.Namespace); err != nil || !u.IsAbs() || !prefix.MatchString(lt.Prefix) {
				t.Errorf("%s: supportedLinkType %+v", lang, lt)
			}
		}
		if f.LinkTypeDefaultCanBeLinkset == nil || *f.LinkTypeDefaultCanBeLinkset || f.Name == "" || f.Contact.Fn == "" ||
			f.JSONLDContextLocation != "https://ref.gs1.org/standards/resolver/linkset-context" {
			t.Errorf("%s: %s", lang, body)
		}
	}
	// The name is in the visitor's language.
	_, fr := resolverGet(t, e, "GET", "/.well-known/gs1resolver", "Accept-Language", "fr")
	_, ar := resolverGet(t, e, "GET", "/.well-known/gs1resolver", "Accept-Language", "ar")
	if string(fr) == string(ar) {
		t.Errorf("the description does not follow the language: %s", ar)
	}
}

// TestLinksetListsTheItemsLinks asks the real public route with
// ?linkType=all (the resolver's linkset), as a scanner does.
func TestLinksetListsTheItemsLinks(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 10, true)
	ref := traceability.TraceRef{GTIN: "06111234567895", Lot: j.packed.Code, Serial: "U3"}
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
// readers numbers the scansOf readings.
var readers int

func scansOf(t *testing.T, e *webtest.Env, signedPath string) int64 {
	t.Helper()
	var a struct {
		Scans int64 `json:"scans"`
	}
	// Each reading is a phone of its own at an address of its own (the
	// test's server trusts its loopback proxy): the count is of distinct
	// scanners, so the reading itself adds exactly one.
	readers++
	resp, body := resolverGet(t, e, "GET", signedPath, "Accept", "application/json", "User-Agent", fmt.Sprintf("reader-%d", readers),
		"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", readers%250+1))
	if resp.StatusCode != 200 || json.Unmarshal(body, &a) != nil {
		t.Fatalf("JSON twin: %d %s", resp.StatusCode, body)
	}
	return a.Scans
}

// TestResolverHeadAndOptions: "SHALL support HTTP 1.1 (or higher) GET,
// HEAD and OPTIONS requests" and "SHALL support CORS" (GS1-Conformant
// Resolver 1.2, as GS1's resolver test suite checks them).
func TestResolverHeadAndOptions(t *testing.T) {
	e := webtest.NewWith(t, webtest.Options{TrustedProxies: []string{"127.0.0.1/32"}}) // scansOf reads as phones at addresses of their own
	j := packedJars(t, e, 10, true)
	unit := traceability.TraceRef{GTIN: "06111234567895", Lot: j.packed.Code, Serial: "U3"}
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

// TestResolverLinkTypes turns the link-type requirements of GS1-Conformant
// Resolver 1.2 (as GS1's resolver test suite asks them) into checks:
// linkType=linkset and the older all, and Accept: application/linkset+json,
// return the linkset without redirecting; a requested link type redirects
// (307) to its target, passing the query string on; a link type the item
// lacks is 404; Vary names Accept.
func TestResolverLinkTypes(t *testing.T) {
	e := webtest.NewWith(t, webtest.Options{TrustedProxies: []string{"127.0.0.1/32"}}) // scansOf reads as phones at addresses of their own
	j := packedJars(t, e, 10, true)
	ref := traceability.TraceRef{GTIN: "06111234567895", Lot: j.packed.Code, Serial: "U3"}
	signed := e.Codes.URL(ref)
	sig := signed[strings.Index(signed, "?s=")+3:]
	path := ref.CanonicalPath()
	plain := e.Server.URL + path
	signedPath := strings.TrimPrefix(signed, e.Server.URL)

	isLinkset := func(what string, resp *http.Response, body []byte) []byte {
		t.Helper()
		var ls struct {
			Linkset []map[string]json.RawMessage `json:"linkset"`
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/linkset+json" ||
			json.Unmarshal(body, &ls) != nil || len(ls.Linkset) != 1 {
			t.Fatalf("%s: not the linkset: %d %s %s", what, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if !strings.Contains(resp.Header.Get("Vary"), "Accept") {
			t.Errorf("%s: Vary %q does not name Accept", what, resp.Header.Get("Vary"))
		}
		return body
	}
	r1, b1 := resolverGet(t, e, "GET", path+"?linkType=linkset")
	want := isLinkset("linkType=linkset", r1, b1)
	for what, req := range map[string][]string{
		"linkType=all":         {path + "?linkType=all"},
		"Accept":               {path, "Accept", "application/linkset+json"},
		"Accept with q values": {path, "Accept", "text/html;q=0.5, application/linkset+json"},
		"Accept and linkType":  {path + "?linkType=linkset", "Accept", "application/json"},
	} {
		resp, body := resolverGet(t, e, "GET", req[0], req[1:]...)
		if got := isLinkset(what, resp, body); string(got) != string(want) {
			t.Errorf("%s: another linkset:\n%s\nwant\n%s", what, got, want)
		}
	}
	// A browser, and a client that prefers HTML or JSON, keep the page
	// and its JSON; their answers vary on Accept too.
	for accept, ctype := range map[string]string{
		"text/html,application/xhtml+xml,*/*;q=0.8":     "text/html; charset=utf-8",
		"text/html, application/linkset+json;q=0.5":     "text/html; charset=utf-8",
		"application/json":                              "application/json; charset=utf-8",
		"application/linkset+json;q=0, text/html;q=0.1": "text/html; charset=utf-8",
	} {
		resp, _ := resolverGet(t, e, "GET", path, "Accept", accept)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ctype || !strings.Contains(resp.Header.Get("Vary"), "Accept") {
			t.Errorf("Accept %q: %d %s, Vary %q; want %s", accept, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Vary"), ctype)
		}
	}

	// Requested link types: 307 to the target, the query string passed on.
	// The trace page target keeps the label's signature when it verifies.
	epcis := e.Server.URL + "/api/v1/lots/" + j.packed.Code + "/epcis"
	for _, tt := range []struct{ linkType, query, want string }{
		{"gs1:pip", "&s=" + sig, plain + "?s=" + sig},
		{"gs1:pip", "", plain},
		{"gs1:pip", "&foo=bar", plain + "?foo=bar"},
		{"gs1:defaultLink", "&s=" + sig + "&foo=bar", plain + "?foo=bar&s=" + sig},
		{"gs1:certificationInfo", "&s=" + sig, plain + "?s=" + sig + "#certifications"},
		{"gs1:traceability", "", epcis},
		{"gs1:traceability", "&foo=bar", epcis + "?foo=bar"},
		{"https://gs1.org/voc/traceability", "", epcis},
		{"https://ref.gs1.org/voc/traceability", "", epcis},
		{url.QueryEscape("https://www.gs1.org/voc/traceability"), "", epcis},
	} {
		resp, _ := resolverGet(t, e, "GET", path+"?linkType="+tt.linkType+tt.query)
		if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != tt.want {
			t.Errorf("linkType=%s%s: %d to %q, want 307 to %s", tt.linkType, tt.query, resp.StatusCode, resp.Header.Get("Location"), tt.want)
		}
		corsOK(t, "redirect "+tt.linkType, resp)
		if !strings.Contains(resp.Header.Get("Link"), `rel="linkset"`) {
			t.Errorf("linkType=%s: no Link to the linkset when redirecting: %q", tt.linkType, resp.Header.Get("Link"))
		}
	}
	// The redirect leads somewhere real: the page, authentic.
	if st, page := getPage(t, e, path+"?linkType=gs1:pip&s="+sig, "fr"); st != 200 || !strings.Contains(page, "Produit authentique") {
		t.Errorf("following gs1:pip: %d", st)
	}
	// A link type the item has no link of is 404, in the visitor's language.
	for _, lt := range []string{"gs1:nosuchlt", "gs1:recipeInfo", "https://example.org/voc/pip", "pip"} {
		resp, body := resolverGet(t, e, "GET", path+"?linkType="+url.QueryEscape(lt), "Accept-Language", "en")
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "This product has no link of that type") {
			t.Errorf("linkType=%s: %d", lt, resp.StatusCode)
		}
	}
	// Neither the linkset nor a redirect counts as a scan (the page it
	// leads to does).
	before := scansOf(t, e, signedPath)
	resolverGet(t, e, "GET", signedPath+"&linkType=linkset")
	resolverGet(t, e, "GET", signedPath+"&linkType=gs1:traceability")
	resolverGet(t, e, "GET", signedPath, "Accept", "application/linkset+json")
	if after := scansOf(t, e, signedPath); after != before+1 {
		t.Errorf("linkset and redirects counted as scans: %d then %d", before, after)
	}
	// The linkset of an unknown item is a 404, not an empty linkset.
	if resp, _ := resolverGet(t, e, "GET", "/01/06111234567895/10/NOSUCHLOT?linkType=linkset"); resp.StatusCode != 404 {
		t.Errorf("linkset of an unknown lot: %d", resp.StatusCode)
	}
	// /t/{lot} is not a GS1 Digital Link: linkType does not apply there.
	if resp, _ := resolverGet(t, e, "GET", "/t/"+j.packed.Code+"?linkType=gs1:traceability"); resp.StatusCode != 200 {
		t.Errorf("/t/ with a linkType: %d", resp.StatusCode)
	}
}

// TestLinksetIsRFC9264 checks the linkset's shape against RFC 9264 and the
// GS1-Conformant Resolver rules: a link context object holds "anchor" and
// link relation types (absolute URIs) only — no plain-string member such
// as "description"; every target has an href and a title; "title*" gives
// the title in French, English and Arabic as the catalogue words them;
// the default link has a title and no other attribute.
func TestLinksetIsRFC9264(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 10, true)
	ref := traceability.TraceRef{GTIN: "06111234567895", Lot: j.packed.Code}
	catalogue := map[string]map[string]any{}
	for _, lang := range []string{"fr", "en", "ar"} {
		b, err := os.ReadFile("i18n/locales/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Messages map[string]any `json:"messages"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		catalogue[lang] = m.Messages
	}
	word := func(lang, key string, args ...any) string {
		s, _ := catalogue[lang][key].(string)
		if s == "" {
			t.Fatalf("%s: no %s", lang, key)
		}
		return fmt.Sprintf(s, args...)
	}
	titleKeys := map[string]string{"pip": "linkset.trace_page", "certificationInfo": "linkset.certifications", "traceability": "linkset.epcis"}
	for _, lang := range []string{"fr", "en", "ar"} {
		resp, body := resolverGet(t, e, "GET", ref.CanonicalPath(), "Accept", "application/linkset+json", "Accept-Language", lang)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Language") != lang {
			t.Fatalf("%s: %d %s", lang, resp.StatusCode, resp.Header.Get("Content-Language"))
		}
		if !strings.Contains(resp.Header.Get("Link"), `rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`) {
			t.Errorf("%s: no JSON-LD context link: %q", lang, resp.Header.Get("Link"))
		}
		var ls struct {
			Linkset []map[string]json.RawMessage `json:"linkset"`
		}
		if err := json.Unmarshal(body, &ls); err != nil || len(ls.Linkset) != 1 {
			t.Fatalf("%s: %v %s", lang, err, body)
		}
		anchorPattern := regexp.MustCompile(`^https?://[a-zA-z0-9./]+`) // GS1's linkset schema
		for member, raw := range ls.Linkset[0] {
			if member == "anchor" {
				var a string
				if json.Unmarshal(raw, &a) != nil || !anchorPattern.MatchString(a) || a != e.Server.URL+ref.CanonicalPath() {
					t.Errorf("%s: anchor %s", lang, raw)
				}
				continue
			}
			if u, err := url.Parse(member); err != nil || !u.IsAbs() {
				t.Errorf("%s: member %q is neither anchor nor a link relation type URI (RFC 9264 §4.2.2)", lang, member)
				continue
			}
			var targets []map[string]json.RawMessage
			if err := json.Unmarshal(raw, &targets); err != nil || len(targets) == 0 {
				t.Errorf("%s: %s is not an array of target objects: %s", lang, member, raw)
				continue
			}
			rel := strings.TrimPrefix(member, "https://gs1.org/voc/")
			for _, tg := range targets {
				var href, title string
				if json.Unmarshal(tg["href"], &href) != nil || json.Unmarshal(tg["title"], &title) != nil || href == "" || title == "" {
					t.Errorf("%s: %s target without href or title: %v", lang, rel, tg)
				}
				if rel == "defaultLink" {
					if len(tg) != 2 {
						t.Errorf("%s: the default link has attributes besides its title: %v", lang, tg)
					}
					continue
				}
				key := titleKeys[rel]
				if key == "" {
					t.Errorf("%s: unexpected link type %s", lang, member)
					continue
				}
				var args []any
				if rel == "pip" {
					args = []any{j.packed.Code}
				}
				if title != word(lang, key, args...) {
					t.Errorf("%s: %s title %q, want %q", lang, rel, title, word(lang, key, args...))
				}
				var intl []struct{ Value, Language string }
				if err := json.Unmarshal(tg["title*"], &intl); err != nil {
					t.Errorf("%s: %s has no title*: %v", lang, rel, err)
				}
				got := map[string]string{}
				for _, v := range intl {
					got[v.Language] = v.Value
				}
				for _, other := range []string{"fr", "en", "ar"} {
					if got[other] != word(other, key, args...) {
						t.Errorf("%s: %s title* in %s is %q, want %q", lang, rel, other, got[other], word(other, key, args...))
					}
				}
			}
		}
		for _, rel := range []string{"pip", "defaultLink", "traceability", "certificationInfo"} {
			if _, ok := ls.Linkset[0]["https://gs1.org/voc/"+rel]; !ok {
				t.Errorf("%s: no %s", lang, rel)
			}
		}
	}
}

// compressDL is GS1 Digital Link compression for the links Terroir prints
// (GTIN and lot with optimisation 0B, a serial, non-GS1 pairs), written
// here so a test can compress the codes of the lot it makes. It agrees
// with GS1's toolkit: see TestCompressDLAgreesWithGS1sToolkit.
func compressDL(gtin, lot, serial string, pairs ...string) string {
	var b strings.Builder
	bin := func(v uint64, n int) { fmt.Fprintf(&b, "%0*b", n, v) }
	valueBits := func(n int) int { return int(math.Ceil(float64(n)*math.Log2(10) + 0.01)) }
	const safe64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	alnum := func(v string, lengthBits int) {
		digits, base64 := true, true
		for _, r := range v {
			digits = digits && r >= '0' && r <= '9'
			base64 = base64 && strings.ContainsRune(safe64, r)
		}
		switch {
		case digits:
			bin(0, 3)
			bin(uint64(len(v)), lengthBits)
			n, _ := strconv.ParseUint(v, 10, 64)
			bin(n, valueBits(len(v)))
		case base64:
			bin(3, 3)
			bin(uint64(len(v)), lengthBits)
			for _, r := range v {
				bin(uint64(strings.IndexRune(safe64, r)), 6)
			}
		default:
			bin(4, 3)
			bin(uint64(len(v)), lengthBits)
			for _, r := range v {
				bin(uint64(r), 7)
			}
		}
	}
	g, _ := strconv.ParseUint(gtin, 10, 64)
	b.WriteString("00001011") // 0B: 01 then 10
	bin(g, 47)
	alnum(lot, 5)
	if serial != "" {
		b.WriteString("00100001") // 21
		alnum(serial, 5)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		b.WriteString("1111") // F: a non-GS1 key=value pair
		bin(uint64(len(pairs[i])), 7)
		for _, r := range pairs[i] {
			bin(uint64(strings.IndexRune(safe64, r)), 6)
		}
		alnum(pairs[i+1], 7)
	}
	bits := b.String()
	bits += strings.Repeat("0", (6-len(bits)%6)%6)
	var out strings.Builder
	for i := 0; i < len(bits); i += 6 {
		n, _ := strconv.ParseUint(bits[i:i+6], 2, 8)
		out.WriteByte(safe64[n])
	}
	return "/" + out.String()
}

func TestCompressDLAgreesWithGS1sToolkit(t *testing.T) {
	// Outputs of GS1DigitalLinkToolkit.js compressGS1DigitalLink.
	for _, tt := range []struct{ gtin, lot, serial, s, want string }{
		{"06111234567895", "SAF-9ZJN2BFK0", "03", "Mb5gPKw8_O5-Xw", "/Cwsdw-5drtqQAv3rJJuwIpWhCBA_A2McY3zAeVh5-dz8vg"},
		{"06111234567895", "SAF-9ZJN2BFK0", "", "Mb5gPKw8_O5-Xw", "/Cwsdw-5drtqQAv3rJJuwIpWngbGOMb5gPKw8_O5-Xw"},
		{"06111234567895", "12345", "", "", "/Cwsdw-5drgowOQ"},
	} {
		var pairs []string
		if tt.s != "" {
			pairs = []string{"s", tt.s}
		}
		if got := compressDL(tt.gtin, tt.lot, tt.serial, pairs...); got != tt.want {
			t.Errorf("%+v: %s", tt, got)
		}
	}
}

// TestCompressedDigitalLinkResolves: "SHALL be able to decompress a URI to
// generate a GS1 Digital Link URI" and "SHALL expose the uncompressed URI
// in the Link response header with a rel value of owl:sameAs"
// (GS1-Conformant Resolver 1.2). A compressed label resolves in place,
// like its uncompressed form: page, linkset, linkType, HEAD and OPTIONS.
func TestCompressedDigitalLinkResolves(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 10, true)
	ref := traceability.TraceRef{GTIN: "06111234567895", Lot: j.packed.Code, Serial: "U3"}
	signed := e.Codes.URL(ref)
	sig := signed[strings.Index(signed, "?s=")+3:]
	compressed := compressDL(ref.GTIN, ref.Lot, ref.Serial, "s", sig)
	plain := e.Server.URL + ref.CanonicalPath()

	resp, body := resolverGet(t, e, "GET", compressed, "Accept-Language", "fr")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Produit authentique") || !strings.Contains(string(body), "Safran de Taliouine 1 g") {
		t.Fatalf("compressed label: %d %s", resp.StatusCode, body)
	}
	link := resp.Header.Get("Link")
	if !strings.Contains(link, `<`+plain+`?s=`+sig+`>; rel="owl:sameAs"`) || !strings.Contains(link, `<`+plain+`?linkType=linkset>; rel="linkset"`) {
		t.Errorf("Link %q", link)
	}
	corsOK(t, "compressed GET", resp)

	// The linkset's anchor is the uncompressed URI.
	for _, req := range [][]string{{compressed + "?linkType=linkset"}, {compressed, "Accept", "application/linkset+json"}} {
		resp, body := resolverGet(t, e, "GET", req[0], req[1:]...)
		var ls struct {
			Linkset []struct {
				Anchor string `json:"anchor"`
			} `json:"linkset"`
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/linkset+json" || json.Unmarshal(body, &ls) != nil ||
			len(ls.Linkset) != 1 || ls.Linkset[0].Anchor != plain {
			t.Errorf("%v: %d %s", req, resp.StatusCode, body)
		}
	}
	// A requested link type redirects to its target; the signature the
	// compressed part holds is passed on with the rest of the query.
	resp, _ = resolverGet(t, e, "GET", compressed+"?linkType=gs1:pip")
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != plain+"?s="+sig {
		t.Errorf("gs1:pip: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = resolverGet(t, e, "GET", compressed+"?linkType=gs1:traceability")
	if want := e.Server.URL + "/api/v1/lots/" + j.packed.Code + "/epcis?s=" + sig; resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != want {
		t.Errorf("gs1:traceability: %d %s, want %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	// HEAD and OPTIONS as on the uncompressed form.
	head, headBody := resolverGet(t, e, "HEAD", compressed)
	opts, _ := resolverGet(t, e, "OPTIONS", compressed)
	if head.StatusCode != 200 || len(headBody) != 0 || opts.StatusCode != http.StatusNoContent || opts.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Errorf("HEAD %d, OPTIONS %d %s", head.StatusCode, opts.StatusCode, opts.Header.Get("Allow"))
	}
	corsOK(t, "compressed OPTIONS", opts)
	// A compressed link without its signature is shown unverified, one with
	// a forged signature as counterfeit: the same verdicts as uncompressed.
	if _, page := getPage(t, e, compressDL(ref.GTIN, ref.Lot, ref.Serial), "fr"); !strings.Contains(page, "Code non vérifié") {
		t.Errorf("unsigned compressed link is not shown as unverified")
	}
	if _, page := getPage(t, e, compressDL(ref.GTIN, ref.Lot, ref.Serial, "s", "AAAAAAAAAAAAAA"), "fr"); !strings.Contains(page, "Attention : code non authentique") {
		t.Errorf("forged compressed link is not shown as counterfeit")
	}
	// A compressed link of a lot Terroir never issued is 404; a path that
	// decodes to no valid GTIN is no compressed link, a plain 404; a
	// compressed link of a serial the lot never had is 404 too.
	for path, want := range map[string]int{
		compressDL(ref.GTIN, "NOSUCHLOT", ""):     404,
		compressDL(ref.GTIN, ref.Lot, "U99"):      404,
		compressDL("06111234567890", ref.Lot, ""): 404,
		"/robots": 404,
	} {
		if resp, _ := resolverGet(t, e, "GET", path); resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestUnitSerialsAndLabelsPrintedBefore: a lot packed now numbers its
// units U1 … U{n} (no serial reads as a GS1 AI, see traceability's
// TestUnitSerialsCannotReadAsAnAI); a lot packed before keeps its
// zero-padded serials, so the labels already printed keep resolving.
func TestUnitSerialsAndLabelsPrintedBefore(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 10, true)
	fresh := traceability.TraceRef{GTIN: "06111234567895", Lot: j.packed.Code}
	check := func(what, serial string, want int, verdict string) {
		t.Helper()
		ref := fresh
		ref.Serial = serial
		st, page := getPage(t, e, strings.TrimPrefix(e.Codes.URL(ref), e.Server.URL), "fr")
		if st != want || !strings.Contains(page, verdict) {
			t.Errorf("%s /21/%s: %d, want %d %q", what, serial, st, want, verdict)
		}
	}
	check("new lot", "U3", 200, "Produit authentique")
	check("new lot", "U10", 200, "Produit authentique")
	check("new lot", "03", 404, "Code inconnu")
	check("new lot", "U03", 404, "Code inconnu")
	// The QR code of unit 3 carries U3.
	resp, body := e.Do("GET", "/api/v1/lots/"+j.packed.Code+"/qr.png?serial=U3", j.manager, nil)
	if resp.StatusCode != 200 || !strings.Contains(decodeQR(t, body), "/21/U3?s=") {
		t.Fatalf("QR of U3: %d", resp.StatusCode)
	}

	// A lot packed before the rule: its record has no serial form.
	var older lotAnswer
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", j.manager, map[string]any{
		"lot": j.dried.Code, "sku": "SAF-1G", "units": 10, "best_before": "2028-12-31", "serials": true}, &older); st != 201 {
		t.Fatalf("second packing: %d", st)
	}
	if _, err := e.Store.Collection("lots").UpdateOne(context.Background(), bson.M{"_id": older.Code},
		bson.M{"$unset": bson.M{"serial_form": ""}}); err != nil {
		t.Fatal(err)
	}
	fresh.Lot = older.Code
	check("lot packed before", "03", 200, "Produit authentique")
	check("lot packed before", "10", 200, "Produit authentique")
	check("lot packed before", "U3", 404, "Code inconnu")
	check("lot packed before", "3", 404, "Code inconnu")
	resp, body = e.Do("GET", "/api/v1/lots/"+older.Code+"/qr.png?serial=03", j.manager, nil)
	if resp.StatusCode != 200 || !strings.Contains(decodeQR(t, body), "/21/03?s=") {
		t.Fatalf("QR of 03 on a lot packed before: %d", resp.StatusCode)
	}
}

// TestResolverSyntaxErrorsAndTrailingSlash: "SHALL extract and
// syntactically validate the URI … and report errors with an HTTP
// response code of 400" (GS1's suite appends /foo to a Digital Link), and
// "SHOULD tolerate trailing slashes" (the same answer with one, no
// redirect).
func TestResolverSyntaxErrorsAndTrailingSlash(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 10, true)
	unit := traceability.TraceRef{GTIN: "06111234567895", Lot: j.packed.Code, Serial: "U3"}
	lot := traceability.TraceRef{GTIN: "06111234567895", Lot: j.packed.Code}
	for path, want := range map[string]int{
		lot.CanonicalPath() + "/foo":           400,
		unit.CanonicalPath() + "/foo":          400,
		"/01/06111234567895/21/U3":             400, // a serial needs its lot here
		"/01/06111234567895/10":                400,
		"/01/061112345678/10/" + j.packed.Code: 400,
		"/01/06111234567895":                   404, // a product, not a lot Terroir resolves
	} {
		for _, m := range []string{"GET", "HEAD"} {
			resp, _ := resolverGet(t, e, m, path)
			if resp.StatusCode != want {
				t.Errorf("%s %s: %d, want %d", m, path, resp.StatusCode, want)
			}
			corsOK(t, m+" "+path, resp)
		}
	}
	for _, ref := range []traceability.TraceRef{lot, unit} {
		for _, q := range []string{"", "?linkType=gs1:traceability", "?linkType=linkset"} {
			a, ab := resolverGet(t, e, "GET", ref.CanonicalPath()+q)
			b, bb := resolverGet(t, e, "GET", ref.CanonicalPath()+"/"+q)
			if a.StatusCode != b.StatusCode || a.Header.Get("Location") != b.Header.Get("Location") || string(ab) != string(bb) {
				t.Errorf("%s%s: %d %q without the slash, %d %q with", ref.CanonicalPath(), q, a.StatusCode, a.Header.Get("Location"), b.StatusCode, b.Header.Get("Location"))
			}
		}
		if resp, _ := resolverGet(t, e, "OPTIONS", ref.CanonicalPath()+"/"); resp.StatusCode != http.StatusNoContent {
			t.Errorf("OPTIONS with a slash: %d", resp.StatusCode)
		}
	}
}
