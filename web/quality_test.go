package web_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/pdftest"
	"github.com/terroir-coop/terroir/web/webtest"
)

// labPDF is a small laboratory report, made here as a laboratory's
// software would: a real PDF.
func labPDF(t testing.TB) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 12)
	pdf.Text(20, 20, "Rapport d'essai ISO 3632-2 - lot de safran")
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// labPNG is a scanned report: a small real PNG.
func labPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		img.Set(x, 15, color.Black)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// categoryI are figures of a category I dried saffron (ISO 3632-1:2011).
func categoryI() map[string]string {
	return map[string]string{"laboratory.name": "Laboratoire Souss Analyses", "laboratory.accreditation": "MA-17025-07",
		"report_number": "RA-2025-114", "sample_date": "2025-11-20", "report_date": "2025-11-28",
		"e257": "88.6", "e330": "33.2", "e440": "241", "moisture": "9.1", "floral_waste": "0.3", "foreign_matter": "0.05"}
}

// postLabResult sends a result as the API's multipart form, with the
// report file (name → content) when given.
func postLabResult(t *testing.T, e *webtest.Env, token, code string, fields map[string]string, file string, content []byte) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if content != nil {
		fw, _ := w.CreateFormFile("report", file)
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	req, _ := http.NewRequest("POST", e.URL("/api/v1/lots/"+code+"/lab-results"), &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func errField(out map[string]any) string {
	if e, ok := out["error"].(map[string]any); ok {
		f, _ := e["field"].(string)
		return f
	}
	return ""
}

// tracePage reads a lot's public trace page in a language.
func tracePage(t *testing.T, e *webtest.Env, code, lang string) string {
	t.Helper()
	resp, body := e.Do("GET", "/t/"+code, "", nil, "Accept-Language", lang)
	if resp.StatusCode != 200 {
		t.Fatalf("trace page %s: %d", code, resp.StatusCode)
	}
	return string(body)
}

// TestLabResultsThroughHTTP records laboratory results through the API with
// real report files, and reads the category where people read it: the
// lot's API answer, the public trace page and JSON (packing keeps it, a
// blend shows none), the label sheet, and the lot page's form.
func TestLabResultsThroughHTTP(t *testing.T) {
	e := webtest.New(t)
	a := newCoop(t, e, "SIROUA", "saffron", 1000)
	b := newCoop(t, e, "TIZNIT", "saffron", 1000)
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	fresh := a.lot(t, a.harvest(t, "2025-11-02", 600)).Code
	st, dried := a.dry(t, fresh, 300, 60)
	if st != 201 {
		t.Fatalf("drying: %d", st)
	}
	st, other := a.dry(t, fresh, 250, 50)
	if st != 201 {
		t.Fatalf("drying: %d", st)
	}
	report := labPDF(t)
	results := func(code string) []any {
		var out map[string]any
		if st := e.JSON("GET", "/api/v1/lots/"+code+"/lab-results", a.manager, nil, &out); st != 200 {
			t.Fatalf("results of %s: %d", code, st)
		}
		return out["results"].([]any)
	}

	// Refused, nothing stored: a bad figure names its field, a report that
	// is not a PDF or an image is 415, an auditor is 403, another
	// cooperative's manager does not see the lot.
	bad := categoryI()
	bad["e440"] = "-3"
	if st, out := postLabResult(t, e, a.manager, dried.Code, bad, "r.pdf", report); st != 400 || errField(out) != "e440" {
		t.Errorf("negative absorbance: %d %v", st, out)
	}
	bad = categoryI()
	bad["moisture"] = "12,5,1"
	if st, out := postLabResult(t, e, a.manager, dried.Code, bad, "r.pdf", report); st != 400 || errField(out) != "moisture" {
		t.Errorf("unreadable moisture: %d %v", st, out)
	}
	bad = categoryI()
	bad["sample_date"] = "2025-11-30"
	if st, out := postLabResult(t, e, a.manager, dried.Code, bad, "r.pdf", report); st != 400 || errField(out) != "sample_date" {
		t.Errorf("sample after report: %d %v", st, out)
	}
	html := []byte("<!doctype html><html><script>alert(document.cookie)</script></html>")
	if st, out := postLabResult(t, e, a.manager, dried.Code, categoryI(), "report.pdf", html); st != 415 || errField(out) != "report" {
		t.Errorf("HTML as a report: %d %v", st, out)
	}
	if st, out := postLabResult(t, e, auditor, dried.Code, categoryI(), "r.pdf", report); st != 403 {
		t.Errorf("auditor: %d %v", st, out)
	}
	if st, out := postLabResult(t, e, b.manager, dried.Code, categoryI(), "r.pdf", report); st != 404 {
		t.Errorf("other cooperative's manager: %d %v", st, out)
	}
	huge := append([]byte("%PDF-1.4\n"), make([]byte, 10<<20)...)
	huge = append(huge, []byte("\n%%EOF\n")...)
	if st, out := postLabResult(t, e, a.manager, dried.Code, categoryI(), "huge.pdf", huge); st != 413 || errField(out) != "report" {
		t.Errorf("report over 10 MB: %d %v", st, out)
	}
	var refusal webtest.APIError
	if st := e.JSON("POST", "/api/v1/lots/"+dried.Code+"/lab-results", a.manager, map[string]any{"laboratory": map[string]string{"name": "L", "accreditation": "A"},
		"sample_date": "2025-11-20", "report_date": "2025-11-28", "e257": 88.6, "e330": 33.2, "e440": 241, "moisture": 140, "floral_waste": 0.3,
		"foreign_matter": 0.05}, &refusal); st != 400 || refusal.Error.Field != "moisture" {
		t.Errorf("JSON moisture over 100 %%: %d %+v", st, refusal)
	}
	if n := len(results(dried.Code)); n != 0 || e.Count("blobs") != 0 {
		t.Fatalf("refused results stored: %d results, %d blobs", n, e.Count("blobs"))
	}

	// A category I result with its PDF report.
	st, out := postLabResult(t, e, a.manager, dried.Code, categoryI(), "rapport.pdf", report)
	if st != 201 {
		t.Fatalf("lab result: %d %v", st, out)
	}
	if q := out["quality"].(map[string]any); q["category"] != "I" || q["standard"] != "ISO 3632-1:2011" || q["laboratory"] != "Laboratoire Souss Analyses" {
		t.Errorf("quality %v", q)
	}
	var lot struct {
		Quality struct{ Category, Standard, Laboratory string } `json:"quality"`
	}
	e.JSON("GET", "/api/v1/lots/"+dried.Code, auditor, nil, &lot)
	if lot.Quality.Category != "I" || lot.Quality.Laboratory != "Laboratoire Souss Analyses" {
		t.Errorf("the lot's quality %+v", lot.Quality)
	}
	rs := results(dried.Code)
	if len(rs) != 1 {
		t.Fatalf("%d results", len(rs))
	}
	reportURL := rs[0].(map[string]any)["report_url"].(string)

	// The report downloads as what it is, an attachment, never inline.
	resp, body := e.Do("GET", reportURL, auditor, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, report) || resp.Header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("report download: %d %v (%d bytes)", resp.StatusCode, resp.Header, len(body))
	}
	if resp, _ := e.Do("GET", reportURL, b.manager, nil); resp.StatusCode != 404 {
		t.Errorf("another cooperative downloads the report: %d", resp.StatusCode)
	}

	// A PNG scan is a report too.
	if st, out := postLabResult(t, e, a.manager, other.Code, map[string]string{"laboratory.name": "Labo Agadir", "laboratory.accreditation": "MA-17025-09",
		"sample_date": "2025-11-20", "report_date": "2025-11-27", "e257": "72", "e330": "26", "e440": "180", "moisture": "10",
		"floral_waste": "2", "foreign_matter": "0.3"}, "scan.png", labPNG(t)); st != 201 || out["quality"].(map[string]any)["category"] != "II" {
		t.Errorf("PNG report: %d %v", st, out)
	}
	resp, body = e.Do("GET", results(other.Code)[0].(map[string]any)["report_url"].(string), a.manager, nil)
	if resp.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(body, []byte("\x89PNG")) {
		t.Errorf("PNG download: %v", resp.Header)
	}

	// Figures alone, as JSON, are a result too (the report may follow).
	st, third := a.dry(t, fresh, 40, 8)
	if st != 201 {
		t.Fatalf("drying: %d", st)
	}
	var created struct {
		Result struct {
			Category  string `json:"category"`
			ReportURL string `json:"report_url"`
		} `json:"result"`
	}
	if st := e.JSON("POST", "/api/v1/lots/"+third.Code+"/lab-results", a.manager, map[string]any{"laboratory": map[string]string{"name": "L", "accreditation": "A"},
		"sample_date": "2025-11-20", "report_date": "2025-11-28", "e257": 60, "e330": 22, "e440": "130,5", "moisture": 11, "floral_waste": 4,
		"foreign_matter": 0.8}, &created); st != 201 || created.Result.Category != "III" || created.Result.ReportURL != "" {
		t.Errorf("JSON result: %d %+v", st, created)
	}

	// The trace page says the category in each language, with the
	// laboratory and date; the trace JSON carries the quality.
	for lang, want := range map[string]string{"fr": "Catégorie I (ISO 3632)", "en": "Category I (ISO 3632)", "ar": "الفئة \u2066I (ISO 3632)\u2069"} {
		page := tracePage(t, e, dried.Code, lang)
		if !strings.Contains(page, want) || !strings.Contains(page, "Laboratoire Souss Analyses") || !strings.Contains(page, "2025-11-28") {
			t.Errorf("%s trace page does not say %q with the laboratory", lang, want)
		}
	}
	var tj struct {
		Quality *struct {
			Category, Laboratory string
			ReportDate           string `json:"report_date"`
		} `json:"quality"`
	}
	if st := e.JSON("GET", "/api/v1/trace/"+dried.Code, "", nil, &tj); st != 200 || tj.Quality == nil || tj.Quality.Category != "I" || tj.Quality.ReportDate != "2025-11-28" {
		t.Errorf("trace JSON quality %d %+v", st, tj.Quality)
	}

	// Packing keeps the category; a blend of the two shows none.
	if st := e.JSON("POST", "/api/v1/products", e.AdminToken, map[string]any{"sku": "SAF-1G",
		"names": map[string]string{"fr": "Safran de Taliouine 1 g", "en": "Taliouine saffron 1 g", "ar": "زعفران تالوين 1 غ"},
		"kind":  "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 1, "unit": "g"}, "gtin": "6111234567895"}, nil); st != 201 {
		t.Fatalf("product: %d", st)
	}
	var jars lotAnswer
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/packings", a.manager, map[string]any{
		"lot": dried.Code, "sku": "SAF-1G", "units": 20, "best_before": "2028-12-31"}, &jars); st != 201 {
		t.Fatalf("packing: %d", st)
	}
	if page := tracePage(t, e, jars.Code, "fr"); !strings.Contains(page, "Catégorie I (ISO 3632)") {
		t.Error("the jars do not show the category of the lot they were packed from")
	}
	var blend struct {
		Outputs []lotAnswer `json:"outputs"`
	}
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/transformations", a.manager, map[string]any{
		"process": "blending",
		"inputs": []map[string]any{{"lot": dried.Code, "quantity": map[string]any{"amount": 10, "unit": "g"}},
			{"lot": other.Code, "quantity": map[string]any{"amount": 10, "unit": "g"}}},
		"outputs": []map[string]any{{"product_kind": "saffron_dried", "quantity": map[string]any{"amount": 20, "unit": "g"}}},
	}, &blend); st != 201 {
		t.Fatalf("blending: %d %v", st, blend)
	}
	mixed := blend.Outputs[0].Code
	for _, lang := range []string{"fr", "en", "ar"} {
		if page := tracePage(t, e, mixed, lang); strings.Contains(page, "ISO 3632") {
			t.Errorf("%s: a blend without its own result shows a category", lang)
		}
	}

	// Labels print the category only when the lot shows one; a claim the
	// lot cannot back is refused.
	resp, body = e.Do("GET", "/api/v1/lots/"+jars.Code+"/labels.pdf?count=1", a.manager, nil)
	if resp.StatusCode != 200 || !strings.Contains(pdftest.Text(t, body), "Catégorie I (ISO 3632)") {
		t.Errorf("jars' labels: %d, category not printed", resp.StatusCode)
	}
	resp, body = e.Do("GET", "/api/v1/lots/"+mixed+"/labels.pdf?count=1", a.manager, nil)
	if resp.StatusCode != 200 || strings.Contains(pdftest.Text(t, body), "ISO 3632") {
		t.Errorf("blend's labels: %d, a category printed", resp.StatusCode)
	}
	if st := e.JSON("GET", "/api/v1/lots/"+mixed+"/labels.pdf?count=1&category=I", a.manager, nil, &refusal); st != 409 || refusal.Error.Field != "category" {
		t.Errorf("category claim on a blend: %d %+v", st, refusal)
	}

	// The lot page shows the category and the result, with the report's
	// link; its form records a result with a file, and a refused one keeps
	// what was typed.
	br := newBrowser(t, e)
	br.loginAs("siroua@coop.ma")
	_, page := br.get("/lots/" + other.Code)
	if !strings.Contains(page, "Catégorie II (ISO 3632)") || !strings.Contains(page, "Labo Agadir") || !strings.Contains(page, `/lab-results/`) ||
		!strings.Contains(page, `enctype="multipart/form-data"`) {
		t.Error("the lot page does not show the result and its form")
	}
	form := url.Values{"csrf": {csrfOf(t, page)}}
	for k, v := range categoryI() {
		form.Set(k, v)
	}
	form.Set("e257", "abc")
	resp, page = br.postMultipart("/lots/"+mixed+"/lab-results", form, map[string]string{"report": string(report)})
	if resp.StatusCode != 400 || !strings.Contains(page, "Laboratoire Souss Analyses") || !strings.Contains(page, `name="e257" inputmode="decimal" required value="abc" aria-invalid="true"`) {
		t.Errorf("refused form: %d", resp.StatusCode)
	}
	form.Set("e257", "88.6")
	if resp, _ := br.postMultipart("/lots/"+mixed+"/lab-results", form, map[string]string{"report": string(report)}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("form: %d", resp.StatusCode)
	}
	if page := tracePage(t, e, mixed, "fr"); !strings.Contains(page, "Catégorie I (ISO 3632)") {
		t.Error("the blend tested through the lot page does not show its category")
	}
	// The auditor reads, and is offered no form.
	ab := newBrowser(t, e)
	ab.loginAs("audit@onssa.ma")
	if _, page := ab.get("/lots/" + dried.Code); !strings.Contains(page, "Catégorie I (ISO 3632)") || strings.Contains(page, `action="/lots/`+dried.Code+`/lab-results"`) {
		t.Error("auditor's lot page")
	}
	checkVerify(t, e)
}
