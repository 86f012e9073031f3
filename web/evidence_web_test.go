package web_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/bundle"
	"github.com/terroir-coop/terroir/internal/pdftest"
	"github.com/terroir-coop/terroir/web/webtest"
)

// evidenceJob is a job as the API shows it.
type evidenceJob struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Progress struct {
		Stage       string `json:"stage"`
		Done, Total int
	} `json:"progress"`
	FileName    string `json:"file_name"`
	SHA256      string `json:"sha256"`
	URL         string `json:"url"`
	DownloadURL string `json:"download_url"`
	Error       string `json:"error"`
}

// waitEvidence polls a job through the API until it is done.
func waitEvidence(t *testing.T, e *webtest.Env, token, url string) evidenceJob {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var j evidenceJob
		if st := e.JSON("GET", url, token, nil, &j); st != 200 {
			t.Fatalf("job %s: %d", url, st)
		}
		switch {
		case j.Status == "done":
			return j
		case j.Status == "failed" || time.Now().After(deadline):
			t.Fatalf("job %+v", j)
		}
		time.Sleep(20 * time.Millisecond) // the polling interval, as a client polls
	}
}

// readEvidence checks a downloaded evidence ZIP as a control body would:
// its manifest's sizes and checksums, and its PDF summary's text.
func readEvidence(t *testing.T, archive []byte) (files map[string][]byte, summary string) {
	t.Helper()
	if _, err := bundle.Verify(bytes.NewReader(archive), int64(len(archive))); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	files = map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return files, pdftest.Text(t, files["summary.pdf"])
}

// TestEvidenceFileThroughHTTP has the auditor ask for a cooperative's
// evidence file of the season through the API (made in the background),
// follow its job and download the ZIP; the lot's own file comes at once;
// who may not read the cooperative is refused; the audit page's section
// starts a job, shows its progress and then the download link.
func TestEvidenceFileThroughHTTP(t *testing.T) {
	e := webtest.NewWith(t, webtest.Options{EvidenceSyncLots: -1})
	a := newCoop(t, e, "SIROUA", "saffron", 1000)
	newCoop(t, e, "TIZNIT", "saffron", 1000)
	auditor := e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	managerB := e.Token("tiznit@coop.ma", webtest.Password)

	fresh := a.lot(t, a.harvest(t, "2026-11-02", 600)).Code
	st, dried := a.dry(t, fresh, 300, 60)
	if st != 201 {
		t.Fatalf("drying: %d", st)
	}
	lab := categoryI()
	lab["sample_date"], lab["report_date"] = "2026-11-20", "2026-11-28"
	if st, out := postLabResult(t, e, a.manager, dried.Code, lab, "rapport.pdf", labPDF(t)); st != 201 {
		t.Fatalf("lab result: %d %v", st, out)
	}
	season := "2026"
	path := "/api/v1/cooperatives/SIROUA/evidence?season=" + season

	// Refused: another cooperative's manager, anonymous, a bad season.
	if st := e.JSON("POST", path, managerB, nil, nil); st != 403 {
		t.Errorf("manager of another cooperative: %d", st)
	}
	if st := e.JSON("POST", path, "", nil, nil); st != 401 {
		t.Errorf("anonymous: %d", st)
	}
	var refusal webtest.APIError
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/evidence?season=26x", auditor, nil, &refusal); st != 400 || refusal.Error.Field != "season" {
		t.Errorf("bad season: %d %+v", st, refusal)
	}
	if n := e.Count("evidence_jobs"); n != 0 {
		t.Fatalf("%d jobs after refusals", n)
	}

	// The auditor's request is a job: 202, polled to the end, downloaded.
	resp, body := e.Do("POST", path, auditor, nil)
	if resp.StatusCode != 202 || resp.Header.Get("Location") == "" {
		t.Fatalf("evidence request: %d %s", resp.StatusCode, body)
	}
	var again evidenceJob
	if st := e.JSON("GET", path, auditor, nil, &again); st != 202 {
		t.Errorf("asking again: %d", st)
	}
	job := waitEvidence(t, e, auditor, resp.Header.Get("Location"))
	if again.ID != job.ID && again.Status != "done" {
		t.Errorf("asking again while it runs made a second job: %s, %s", again.ID, job.ID)
	}
	if st := e.JSON("GET", job.URL, managerB, nil, nil); st != 404 {
		t.Errorf("another cooperative reads the job: %d", st)
	}
	resp, archive := e.Do("GET", job.DownloadURL, auditor, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="evidence-SIROUA-2026.zip"` || resp.Header.Get("X-Content-SHA256") != job.SHA256 {
		t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
	}
	files, summary := readEvidence(t, archive)
	for _, want := range []string{"Fatima Aït Brahim", "Tamazirt", dried.Code, "MA-17025-07", "88.6 / 33.2 / 241"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary does not say %q", want)
		}
	}
	if _, ok := files["parcels.geojson"]; !ok || len(files["epcis.json"]) == 0 {
		t.Errorf("files %v", keysOf(files))
	}
	if resp, _ := e.Do("GET", job.DownloadURL, managerB, nil); resp.StatusCode != 404 {
		t.Errorf("another cooperative downloads the file: %d", resp.StatusCode)
	}

	// A lot's own file is small: it comes at once.
	resp, archive = e.Do("GET", "/api/v1/lots/"+dried.Code+"/evidence", a.manager, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("lot evidence: %d %s", resp.StatusCode, archive)
	}
	if _, summary := readEvidence(t, archive); !strings.Contains(summary, dried.Code) {
		t.Error("the lot's summary does not name the lot")
	}
	if resp, _ := e.Do("GET", "/api/v1/lots/"+dried.Code+"/evidence", managerB, nil); resp.StatusCode != 404 {
		t.Errorf("another cooperative's lot evidence: %d", resp.StatusCode)
	}

	// The audit page: the button starts a job, the page follows it (it
	// reloads itself while the file is made) and then links the file.
	br := newBrowser(t, e)
	br.loginAs("audit@onssa.ma")
	_, page := br.get("/audit/SIROUA?season=" + season)
	if !strings.Contains(page, "Dossier de preuves") || !strings.Contains(page, `action="/audit/SIROUA/evidence"`) {
		t.Fatal("the audit page has no evidence section")
	}
	resp, _ = br.post("/audit/SIROUA/evidence", url.Values{"csrf": {csrfOf(t, page)}, "season": {season}})
	next := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(next, "job=") {
		t.Fatalf("start from the page: %d %s", resp.StatusCode, next)
	}
	link := regexp.MustCompile(`href="(/audit/SIROUA/evidence/[^"]+/file)"`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, page = br.get(next)
		if m := link.FindStringSubmatch(page); m != nil {
			resp, archive := br.get(m[1])
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
				t.Fatalf("page download: %d", resp.StatusCode)
			}
			readEvidence(t, []byte(archive))
			if strings.Contains(page, `http-equiv="refresh"`) {
				t.Error("the page still reloads itself once the file is ready")
			}
			break
		}
		if !strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, `id="evidence-progress"`) || time.Now().After(deadline) {
			t.Fatalf("the page neither shows progress nor the file:\n%s", page)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Another cooperative's manager may not start one from the page.
	bb := newBrowser(t, e)
	bb.loginAs("tiznit@coop.ma")
	_, page = bb.get("/")
	if resp, _ := bb.post("/audit/SIROUA/evidence", url.Values{"csrf": {csrfOf(t, page)}, "season": {season}}); resp.StatusCode != 403 {
		t.Errorf("other manager from the page: %d", resp.StatusCode)
	}
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
