package web_test

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"image/png"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// jarsFixture is a saffron cooperative whose harvest carries a valid AOP
// claim and a suspended organic one, dried (1000 g → 200 g) and packed
// into 1 g jars of a product with a GTIN.
type jarsFixture struct {
	coopFixture
	origin, dried, packed lotAnswer
}

func packedJars(t *testing.T, e *webtest.Env, units int, serials bool) jarsFixture {
	t.Helper()
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	certify(t, e, "SIROUA", "AOP Safran de Taliouine", f.parcel)
	organic := certify(t, e, "SIROUA", "EU organic", f.parcel)
	j := jarsFixture{coopFixture: f}
	j.origin = f.lot(t, f.harvest(t, "2025-10-28", 1000))
	_, j.dried = f.dry(t, j.origin.Code, 1000, 200)
	product := map[string]any{"sku": "SAF-1G", "names": map[string]string{"fr": "Safran de Taliouine 1 g", "en": "Taliouine saffron 1 g", "ar": "زعفران تالوين 1 غ"},
		"kind": "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 1, "unit": "g"}, "gtin": "6111234567895"}
	if st := e.JSON("POST", "/api/v1/products", e.AdminToken, product, nil); st != 201 {
		t.Fatalf("product: %d", st)
	}
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", f.manager, map[string]any{
		"lot": j.dried.Code, "sku": "SAF-1G", "units": units, "best_before": "2028-12-31", "serials": serials}, &j.packed); st != 201 {
		t.Fatalf("packing: %d %+v", st, j.packed)
	}
	if len(j.packed.Claims) != 2 {
		t.Fatalf("the jars should claim AOP and organic: %+v", j.packed.Claims)
	}
	if st := e.JSON("POST", "/api/v1/certifications/"+organic+"/status", e.AdminToken, map[string]string{"status": "suspended", "reason": "residue analysis pending"}, nil); st != 200 {
		t.Fatalf("suspend: %d", st)
	}
	return j
}

func decodeQR(t *testing.T, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// The PNG is a clean symbol on white, as a label printer receives it:
	// read it as such first, then as a photo would be read.
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		res, err = zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	}
	if err != nil {
		t.Fatalf("QR does not decode: %v", err)
	}
	return res.GetText()
}

func TestQRCodeDecodesToTheSignedTraceURL(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 30, true)
	lot := traceability.Lot{Code: j.packed.Code, GTIN: "06111234567895"}
	for _, tt := range []struct {
		query, serial string
		px            int
	}{{"", "", 256}, {"?serial=U7&size=512&level=Q", "U7", 512}, {"?level=H&size=128", "", 128}, {"?level=L&size=2048&serial=U30", "U30", 2048}} {
		resp, body := e.Do("GET", "/api/v1/lots/"+j.packed.Code+"/qr.png"+tt.query, j.manager, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "private") {
			t.Fatalf("%s: %d %s %s %s", tt.query, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), body)
		}
		if cfg, err := png.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != tt.px || cfg.Height != tt.px {
			t.Fatalf("%s: image %+v, want %d px square", tt.query, cfg, tt.px)
		}
		got := decodeQR(t, body)
		ref := traceability.RefOf(lot, tt.serial)
		if want := e.Codes.URL(ref); got != want {
			t.Fatalf("%s: QR says %s, want %s", tt.query, got, want)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != strings.TrimPrefix(e.Server.URL, "http://") {
			t.Fatalf("%s: %s is not on the public URL %s", tt.query, got, e.Server.URL)
		}
		parsed, err := traceability.ParseTracePath(u.EscapedPath())
		if err != nil || parsed != ref || !e.Codes.Authentic(parsed, u.Query().Get("s")) {
			t.Fatalf("%s: %s parses to %+v (%v), authentic %v", tt.query, got, parsed, err, e.Codes.Authentic(parsed, u.Query().Get("s")))
		}
	}
}

func TestQRCodeRefusals(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 30, true)
	other := newCoop(t, e, "TAMGA", "saffron", 1000)
	auditor := e.User("audit@cert.ma", access.Auditor, "", "SIROUA")
	qr := "/api/v1/lots/" + j.packed.Code + "/qr.png"
	bulk := "/api/v1/lots/" + j.dried.Code + "/qr.png"
	tests := []struct {
		name, path, token string
		status            int
		field             string
	}{
		{"size too small", qr + "?size=63", j.manager, 400, "size"},
		{"size too large", qr + "?size=2049", j.manager, 400, "size"},
		{"size not a number", qr + "?size=big", j.manager, 400, "size"},
		{"unknown level", qr + "?level=X", j.manager, 400, "level"},
		{"serial beyond the lot", qr + "?serial=U31", j.manager, 400, "serial"},
		{"serial without its U", qr + "?serial=7", j.manager, 400, "serial"},
		{"serial zero-padded", qr + "?serial=U07", j.manager, 400, "serial"},
		{"serial on a lot without serials", bulk + "?serial=01", j.manager, 400, "serial"},
		{"anonymous", qr, "", 401, ""},
		{"another cooperative", qr, other.manager, 404, ""},
		{"auditor in scope", qr, auditor, 200, ""},
		{"admin", qr + "?size=2048", e.AdminToken, 200, ""},
		{"unknown lot", "/api/v1/lots/NOPE-0000/qr.png", e.AdminToken, 404, ""},
	}
	for _, tt := range tests {
		resp, body := e.Do("GET", tt.path, tt.token, nil)
		var apiErr webtest.APIError
		if resp.StatusCode != 200 {
			_ = json.Unmarshal(body, &apiErr)
		}
		if resp.StatusCode != tt.status || apiErr.Error.Field != tt.field {
			t.Errorf("%s: %d %s, want %d field %q", tt.name, resp.StatusCode, body, tt.status, tt.field)
		}
	}
}

// pdfPages counts the page objects of a PDF.
func pdfPages(b []byte) int {
	return len(regexp.MustCompile(`/Type /Page\b`).FindAll(b, -1))
}

// pdfText inflates the PDF's content streams, where the label text is (in
// cp1252, as the core fonts want it).
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	var out strings.Builder
	for _, m := range regexp.MustCompile(`(?s)stream\n(.*?)\nendstream`).FindAllSubmatch(b, -1) {
		r, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue // not a deflated stream
		}
		text, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("a content stream does not inflate: %v", err)
		}
		out.Write(text)
	}
	return out.String()
}

func TestLabelSheets(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 30, true)
	labels := "/api/v1/lots/" + j.packed.Code + "/labels.pdf"
	for _, tt := range []struct {
		query string
		pages int
	}{
		{"", 2},                   // 30 jars, 24 a sheet
		{"?grid=3x8", 2},          // the default, said
		{"?grid=2x7", 3},          // 14 a sheet
		{"?grid=4x10", 1},         // 40 a sheet
		{"?grid=4x10&count=5", 1}, // a few
		{"?count=25", 2},
		{"?from=7&count=24", 1},
	} {
		resp, body := e.Do("GET", labels+tt.query, j.manager, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF")) {
			t.Fatalf("%s: %d %s %.200s", tt.query, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if got := pdfPages(body); got != tt.pages {
			t.Errorf("%s: %d pages, want %d", tt.query, got, tt.pages)
		}
	}

	_, body := e.Do("GET", labels+"?from=7&count=3", j.manager, nil)
	text := pdfText(t, body)
	for _, want := range []string{"Safran de Taliouine 1 g", "Poids net : 1 g", "Lot : " + j.packed.Code + " \xb7 n\xb0 U7",
		"n\xb0 U9", "31/12/2028", "Coop\xe9rative SIROUA", "AOP Safran de Taliouine", "MA-BIO-154"} {
		if !strings.Contains(text, want) {
			t.Errorf("the labels do not say %q", want)
		}
	}
	for _, unwanted := range []string{"n\xb0 U6", "n\xb0 U10", "Bio UE"} { // outside the range; suspended
		if strings.Contains(text, unwanted) {
			t.Errorf("the labels say %q", unwanted)
		}
	}

	// A bulk lot gets one label by default, named by its kind.
	resp, body := e.Do("GET", "/api/v1/lots/"+j.dried.Code+"/labels.pdf", j.manager, nil)
	if resp.StatusCode != 200 || pdfPages(body) != 1 || !strings.Contains(pdfText(t, body), "Safran s\xe9ch\xe9") {
		t.Fatalf("bulk lot label: %d", resp.StatusCode)
	}
}

func TestLabelSheetRefusals(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 30, true)
	other := newCoop(t, e, "TAMGA", "saffron", 1000)
	auditor := e.User("audit@cert.ma", access.Auditor, "", "SIROUA")
	labels := "/api/v1/lots/" + j.packed.Code + "/labels.pdf"
	tests := []struct {
		name, path, token string
		status            int
		field             string
	}{
		{"unknown grid", labels + "?grid=5x5", j.manager, 400, "grid"},
		{"no labels", labels + "?count=0", j.manager, 400, "count"},
		{"too many labels", labels + "?count=1001", j.manager, 400, "count"},
		{"past the last serial", labels + "?from=20&count=12", j.manager, 400, "count"},
		{"from beyond the lot", labels + "?from=31", j.manager, 400, "from"},
		{"anonymous", labels, "", 401, ""},
		{"another cooperative", labels, other.manager, 404, ""},
		{"auditors read, they do not print", labels, auditor, 403, ""},
		{"admin", labels, e.AdminToken, 200, ""},
	}
	for _, tt := range tests {
		resp, body := e.Do("GET", tt.path, tt.token, nil)
		var apiErr webtest.APIError
		if resp.StatusCode != 200 {
			_ = json.Unmarshal(body, &apiErr)
		}
		if resp.StatusCode != tt.status || apiErr.Error.Field != tt.field {
			t.Errorf("%s: %d %.200s, want %d field %q", tt.name, resp.StatusCode, body, tt.status, tt.field)
		}
	}
}

// TestScannedQROpensTheAuthenticTracePage is issue 4's acceptance: the URL
// decoded from qr.png opens the right trace page, marked authentic; one
// character changed in the lot or in s gives the counterfeit warning.
func TestScannedQROpensTheAuthenticTracePage(t *testing.T) {
	e := webtest.New(t)
	j := packedJars(t, e, 30, false)
	_, png := e.Do("GET", "/api/v1/lots/"+j.packed.Code+"/qr.png", j.manager, nil)
	scanned := decodeQR(t, png)
	st, page := getPage(t, e, strings.TrimPrefix(scanned, e.Server.URL), "fr")
	if st != 200 || !strings.Contains(page, "Produit authentique") || !strings.Contains(page, j.packed.Code) {
		t.Fatalf("scanned URL %s: %d", scanned, st)
	}
	i := strings.Index(scanned, "?s=")
	change := func(s string, at int) string {
		b := []byte(s)
		b[at] = map[bool]byte{true: 'B', false: 'A'}[b[at] == 'A']
		return string(b)
	}
	lotAt := strings.Index(scanned, j.packed.Code) + 6
	for name, u := range map[string]string{
		"lot changed": change(scanned, lotAt),
		"s changed":   change(scanned, i+5),
	} {
		st, page := getPage(t, e, strings.TrimPrefix(u, e.Server.URL), "fr")
		if !(st == 404 && strings.Contains(page, "Code inconnu")) && !(st == 200 && strings.Contains(page, "code non authentique")) {
			t.Errorf("%s (%s): %d without a counterfeit warning", name, u, st)
		}
	}
}
