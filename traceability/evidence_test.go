package traceability

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/bundle"
	"github.com/terroir-coop/terroir/internal/epcistest"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
)

// squareAround is a square parcel outline of about areaM2 centred on a
// point, as GeoJSON.
func squareAround(lon, lat float64, areaM2 int64) Geometry {
	side := math.Sqrt(float64(areaM2))
	dLat := side / 110_574 / 2
	dLon := side / (111_320 * math.Cos(lat*math.Pi/180)) / 2
	ring := [][]float64{{lon - dLon, lat - dLat}, {lon + dLon, lat - dLat}, {lon + dLon, lat + dLat}, {lon - dLon, lat + dLat}, {lon - dLon, lat - dLat}}
	b, _ := json.Marshal([][][]float64{ring})
	return Geometry{Type: "Polygon", Coordinates: b}
}

// stubSummary stands for documents.EvidencePDF (which imports this
// package): a PDF naming the cooperative, so the test can see it was given
// the file's data.
func stubSummary(w io.Writer, f EvidenceFile) error {
	_, err := w.Write(testPDF(f.Title + " / " + f.Cooperative.Name))
	return err
}

// evidenceSeason records a season worth a file: members of both genders, a
// walked parcel, a flagged harvest that was justified, dried saffron graded
// category I with its PDF report, jars shipped, and a certificate
// suspended then reinstated.
func evidenceSeason(t *testing.T) (*fixture, Lot, Lot, []byte) {
	f := newFixture(t)
	man, err := f.s.AddMember(f.ctx, f.admin, f.coop, Member{Name: "Lahcen", Gender: "male", Village: "Tinzert"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.s.AddParcel(f.ctx, f.admin, f.coop, NewParcel{Code: "P-07", Name: "Agouni", Member: man.ID, Commune: "Taliouine",
		AreaM2: 1200, Crop: "saffron", Location: squareAround(-7.9262, 30.5318, 1200)})
	if err != nil {
		t.Fatal(err)
	}
	f.parcels["saffron"] = p.ID
	cert, err := f.s.CreateCertification(f.ctx, f.admin, NewCertification{Holder: f.coop, Scheme: "EU organic", Body: "Ecocert Maroc",
		BodyCode: "MA-BIO-154", Number: "BIO-2025-7", ValidFrom: "2025-01-01", ValidTo: "2026-12-31", Crops: []string{"saffron"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SetCertificationStatus(f.ctx, f.admin, cert.ID, StatusSuspended, "annual audit pending"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SetCertificationStatus(f.ctx, f.admin, cert.ID, StatusValid, "audit passed"); err != nil {
		t.Fatal(err)
	}
	h, err := f.s.AddHarvest(f.ctx, f.manager, f.coop, NewHarvest{Parcel: p.ID, Member: man.ID, Date: "2025-10-28", Crop: "saffron", Quantity: g(900)})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := f.s.CreateOriginLot(f.ctx, f.manager, f.coop, NewOriginLot{ProductKind: "saffron", Harvests: []string{h.ID}})
	if err != nil {
		t.Fatal(err)
	}
	// A yield below the typical range, justified.
	dried := f.mustTransform("drying", in(fresh, g(900)), out("saffron_dried", g(120)))[0]
	if len(dried.Flags) == 0 {
		t.Fatalf("the drying was not flagged: %+v", dried)
	}
	if _, err := f.s.JustifyFlag(f.ctx, f.manager, dried.Code, dried.Flags[0].ID, "stigmas weighed wet after the rain of 27 October"); err != nil {
		t.Fatal(err)
	}
	report := testPDF("Rapport 311")
	req := categoryI()
	req.Report = &Upload{Name: "R-311.pdf", Data: report}
	if _, err := f.s.AddLabResult(f.ctx, f.manager, dried.Code, req); err != nil {
		t.Fatal(err)
	}
	jars := f.pack(f.lot(dried.Code), 50, 1000)
	if err := f.ship(jars.Code, 20, "EU-PLATFORM"); err != nil {
		t.Fatal(err)
	}
	return f, f.lot(dried.Code), f.lot(jars.Code), report
}

// unzip reads every file of an archive.
func unzip(t *testing.T, archive []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[zf.Name] = b
	}
	return out
}

func readTable(t *testing.T, b []byte) []map[string]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("csv: %v", err)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// TestSeasonEvidenceFile writes a season's evidence ZIP and reads it as the
// control body would: the manifest's checksums match, the CSV files hold
// the records, the GeoJSON is the parcel's outline, the EPCIS document
// validates with epcis2.js, and the report is the laboratory's file byte for
// byte.
func TestSeasonEvidenceFile(t *testing.T) {
	f, dried, jars, report := evidenceSeason(t)
	codes := Codes{PublicURL: "http://127.0.0.1:8080"}
	var buf bytes.Buffer
	var stages []string
	ef, m, err := f.s.WriteEvidence(f.ctx, f.admin, EvidenceRequest{Cooperative: f.coop, Season: 2025}, codes, stubSummary, &buf,
		func(p EvidenceProgress) {
			if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
				stages = append(stages, p.Stage)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(stages, ",") != "records,epcis,lots,summary,archive" {
		t.Errorf("stages %v", stages)
	}
	if ef.FileName() != "evidence-SIROUA-2025.zip" || ef.Women != 1 || ef.Men != 1 || ef.ActiveMen != 1 || ef.ActiveWomen != 0 {
		t.Errorf("file %s: women %d men %d, active %d/%d", ef.FileName(), ef.Women, ef.Men, ef.ActiveWomen, ef.ActiveMen)
	}
	archive := buf.Bytes()
	got, err := bundle.Verify(bytes.NewReader(archive), int64(len(archive)))
	if err != nil || len(got.Files) != len(m.Files) {
		t.Fatalf("manifest: %v", err)
	}
	files := unzip(t, archive)
	for _, name := range []string{"summary.pdf", "members.csv", "parcels.csv", "parcels.geojson", "harvests.csv", "lots.csv", "transformations.csv",
		"flags.csv", "mass_balance.csv", "certificates.csv", "certificate_history.csv", "lab_results.csv", "epcis.json", bundle.ManifestName, bundle.SumsName} {
		if _, ok := files[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	if !bytes.Contains(files["summary.pdf"], []byte("Coop")) && !bytes.Contains(files["summary.pdf"], []byte("Siroua")) {
		t.Errorf("the summary was not given the file's data")
	}
	results := readTable(t, files["lab_results.csv"])
	if len(results) != 1 || results[0]["lot"] != dried.Code || results[0]["category"] != "I" || results[0]["e330"] != "34.1" {
		t.Fatalf("lab results %+v", results)
	}
	if name := results[0]["report_file"]; !bytes.Equal(files[name], report) || results[0]["report_sha256"] != sha256Hex(report) {
		t.Errorf("report %s: %d bytes, want the laboratory's %d", name, len(files[name]), len(report))
	}
	flags := readTable(t, files["flags.csv"])
	if len(flags) != 1 || flags[0]["lot"] != dried.Code || !strings.Contains(flags[0]["justification"], "rain of 27 October") {
		t.Errorf("flags %+v", flags)
	}
	history := readTable(t, files["certificate_history.csv"])
	if len(history) != 3 || history[1]["status"] != StatusSuspended || history[1]["reason"] != "annual audit pending" {
		t.Errorf("certificate history %+v", history)
	}
	steps := readTable(t, files["transformations.csv"])
	if len(steps) != 1 || steps[0]["process"] != "drying" || steps[0]["yield"] != "13.3 %" || steps[0]["typical"] == "" {
		t.Errorf("transformations %+v", steps)
	}
	balance := readTable(t, files["mass_balance.csv"])
	if len(balance) != 2 || balance[0]["reconciles"] != "true" || balance[1]["reconciles"] != "true" {
		t.Errorf("mass balance %+v", balance)
	}
	lots := readTable(t, files["lots.csv"])
	if len(lots) != 3 || lots[1]["iso3632_category"] != "I" || lots[2]["code"] != jars.Code || lots[2]["shipped"] != "20" ||
		lots[2]["iso3632_category"] != "I" || lots[2]["iso3632_tested_lot"] != dried.Code {
		t.Errorf("lots %+v", lots)
	}
	members := readTable(t, files["members.csv"])
	if len(members) != 2 {
		t.Errorf("members %+v", members)
	}
	var geo struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry struct {
				Type        string         `json:"type"`
				Coordinates [][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(files["parcels.geojson"], &geo); err != nil || geo.Type != "FeatureCollection" || len(geo.Features) != 1 {
		t.Fatalf("geojson: %v %s", err, files["parcels.geojson"])
	}
	if g := geo.Features[0]; g.Geometry.Type != "Polygon" || len(g.Geometry.Coordinates[0]) != 5 || g.Properties["code"] != "P-07" || g.Properties["member_name"] != "Lahcen" {
		t.Errorf("parcel feature %+v", g)
	}
	out, err := epcistest.Validate(t, files["epcis.json"])
	if err != nil || !strings.Contains(out, "ok 1 documents") {
		t.Fatalf("epcis2.js: %v\n%s", err, out)
	}
	var doc EPCISDocument
	if err := json.Unmarshal(files["epcis.json"], &doc); err != nil {
		t.Fatal(err)
	}
	steps2 := map[string]int{}
	for _, e := range doc.Body.EventList {
		steps2[e.BizStep]++
	}
	if steps2["inspecting"] != 1 || steps2["packing"] != 1 || steps2["shipping"] != 1 {
		t.Errorf("epcis steps %v", steps2)
	}
}

// TestLotEvidenceFile: a jar lot's file holds the jars and every lot they
// came from, their harvest, parcel, member and certificate, and the lot's
// EPCIS document.
func TestLotEvidenceFile(t *testing.T) {
	f, dried, jars, _ := evidenceSeason(t)
	var buf bytes.Buffer
	ef, _, err := f.s.WriteEvidence(f.ctx, f.manager, EvidenceRequest{Lot: strings.ToLower(jars.Code)}, Codes{PublicURL: "http://x"}, stubSummary, &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ef.FileName() != "evidence-"+jars.Code+".zip" || len(ef.Lots) != 3 || len(ef.Harvests) != 1 || len(ef.Parcels) != 1 || len(ef.Members) != 1 ||
		len(ef.Certificates) != 1 || len(ef.LabResults) != 1 || ef.LabResults[0].Lot != dried.Code || ef.MassBalance != nil {
		t.Fatalf("lot file %+v", ef)
	}
	files := unzip(t, buf.Bytes())
	if _, ok := files["mass_balance.csv"]; ok {
		t.Error("a lot's file has a season's mass balance")
	}
	if out, err := epcistest.Validate(t, files["epcis.json"]); err != nil {
		t.Fatalf("epcis2.js: %v\n%s", err, out)
	}
}

// TestEvidenceAccess: the cooperative, its auditors and the admin; nobody
// else learns anything.
func TestEvidenceAccess(t *testing.T) {
	f, _, jars, _ := evidenceSeason(t)
	codes := Codes{PublicURL: "http://x"}
	season := EvidenceRequest{Cooperative: f.coop, Season: 2025}
	auditor := access.Actor{UserID: "a", Email: "a@x", Role: access.Auditor, Scope: []string{f.coop}}
	if _, err := f.s.Evidence(f.ctx, auditor, season, codes, nil); err != nil {
		t.Errorf("auditor in scope: %v", err)
	}
	for _, who := range []access.Actor{
		{UserID: "b", Email: "b@x", Role: access.Auditor, Scope: []string{"OTHER"}},
		{UserID: "c", Email: "c@x", Role: access.CoopManager, Org: "OTHER"},
		{UserID: "d", Email: "d@x", Role: access.ShopManager, Org: "EU-PLATFORM"},
	} {
		if _, err := f.s.Evidence(f.ctx, who, season, codes, nil); !access.IsForbidden(err) {
			t.Errorf("%s %s: season file: %v", who.Role, who.Org, err)
		}
		if _, err := f.s.Evidence(f.ctx, who, EvidenceRequest{Lot: jars.Code}, codes, nil); !errorsIs(err, ErrLotNotFound) {
			t.Errorf("%s %s: lot file: %v", who.Role, who.Org, err)
		}
	}
	if _, err := f.s.Evidence(f.ctx, access.Actor{}, season, codes, nil); !errors.Is(err, access.ErrUnauthorized) {
		t.Errorf("anonymous: %v", err)
	}
	_, err := f.s.Evidence(f.ctx, f.admin, EvidenceRequest{Cooperative: f.coop, Season: 25}, codes, nil)
	wantProblem(t, err, problem.Invalid, "season")
}

// gate is a summary renderer that waits until released, so a test can look
// at a job while it runs.
type gate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 8), release: make(chan struct{})} }

func (g *gate) render(w io.Writer, f EvidenceFile) error {
	g.entered <- struct{}{}
	<-g.release
	return stubSummary(w, f)
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// waitJob polls a job until it is done or failed, with a deadline.
func waitJob(t *testing.T, jobs *EvidenceJobs, actor access.Actor, id string) EvidenceJob {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := jobs.Job(context.Background(), actor, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == JobDone || j.Status == JobFailed {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still %s at %+v", j.Status, j.Progress)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for an event
	}
}

// TestEvidenceJobs makes a season's file in the background: the request
// returns a job, asking again while it runs returns the same job, the
// record shows its stage, and the finished file downloads and verifies.
// A small file is answered at once.
func TestEvidenceJobs(t *testing.T) {
	f, _, _, _ := evidenceSeason(t)
	g := newGate()
	defer g.open()
	jobs := NewEvidenceJobs(f.s, Codes{PublicURL: "http://x"}, g.render, EvidenceJobOptions{SyncLots: -1})
	defer jobs.Close()
	req := EvidenceRequest{Cooperative: f.coop, Season: 2025}
	file, job, err := jobs.Request(f.ctx, f.manager, req)
	if err != nil || file != nil || job == nil || job.Status != JobQueued {
		t.Fatalf("request: %v %+v %+v", err, file, job)
	}
	<-g.entered // the job is rendering its summary
	running, err := jobs.Job(f.ctx, f.manager, job.ID)
	if err != nil || running.Status != JobRunning || running.Progress.Stage != StageSummary {
		t.Errorf("running job %+v %v", running, err)
	}
	again, err := jobs.Start(f.ctx, f.admin, req)
	if err != nil || again.ID != job.ID {
		t.Errorf("a second request started job %s (first %s): %v", again.ID, job.ID, err)
	}
	if _, err := jobs.Download(f.ctx, f.manager, job.ID); problem.CodeOf(err) != problem.Conflict {
		t.Errorf("download while running: %v", err)
	}
	other := access.Actor{UserID: "o", Email: "o@x", Role: access.CoopManager, Org: "OTHER"}
	if _, err := jobs.Job(f.ctx, other, job.ID); !errorsIs(err, ErrEvidenceJobNotFound) {
		t.Errorf("another cooperative polls the job: %v", err)
	}
	g.open()
	done := waitJob(t, jobs, f.manager, job.ID)
	if done.Status != JobDone || done.FileName != "evidence-SIROUA-2025.zip" || done.Size == 0 {
		t.Fatalf("job %+v", done)
	}
	dl, err := jobs.Download(f.ctx, f.manager, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(dl.Body)
	if err != nil || int64(len(archive)) != done.Size || sha256Hex(archive) != done.SHA256 {
		t.Fatalf("download: %v, %d bytes", err, len(archive))
	}
	if _, err := bundle.Verify(bytes.NewReader(archive), int64(len(archive))); err != nil {
		t.Fatal(err)
	}
	// A newer file replaces the older one.
	next, err := jobs.Start(f.ctx, f.manager, req)
	if err != nil || next.ID == job.ID {
		t.Fatalf("a finished job was reused: %v", err)
	}
	<-g.entered
	if waitJob(t, jobs, f.manager, next.ID).Status != JobDone {
		t.Fatal("second job failed")
	}
	if _, err := jobs.Job(f.ctx, f.manager, job.ID); !errorsIs(err, ErrEvidenceJobNotFound) {
		t.Errorf("the older job is still there: %v", err)
	}
	if _, err := f.s.store.blobInfo(f.ctx, done.Blob); !errorsIs(err, ErrBlobNotFound) {
		t.Errorf("the older file is still stored: %v", err)
	}
	// A small season is answered at once.
	small := NewEvidenceJobs(f.s, Codes{PublicURL: "http://x"}, stubSummary, EvidenceJobOptions{})
	defer small.Close()
	file, job, err = small.Request(f.ctx, f.manager, req)
	if err != nil || job != nil || file == nil || file.ContentType != TypeZIP || file.FileName != "evidence-SIROUA-2025.zip" {
		t.Fatalf("small request: %v %+v %+v", err, file, job)
	}
}

// TestEvidenceJobInterrupted: a running job whose process stopped touching
// it is reported interrupted, and asking again starts a new one; a job
// whose making fails says why without internals.
func TestEvidenceJobInterrupted(t *testing.T) {
	f, _, _, _ := evidenceSeason(t)
	stale := EvidenceJob{ID: id.New("evj"), Cooperative: f.coop, Season: 2025, Status: JobRunning, RequestedBy: "x",
		CreatedAt: f.now.Add(-time.Hour), UpdatedAt: f.now.Add(-10 * time.Minute)}
	if err := f.s.store.insertEvidenceJob(f.ctx, stale); err != nil {
		t.Fatal(err)
	}
	var logged []error
	var mu sync.Mutex
	broken := func(io.Writer, EvidenceFile) error { return fmt.Errorf("font cache full") }
	jobs := NewEvidenceJobs(f.s, Codes{PublicURL: "http://x"}, broken, EvidenceJobOptions{SyncLots: -1, OnError: func(_ string, err error) {
		mu.Lock()
		logged = append(logged, err)
		mu.Unlock()
	}})
	defer jobs.Close()
	j, err := jobs.Job(f.ctx, f.manager, stale.ID)
	if err != nil || j.Status != JobFailed || !strings.Contains(j.Error, "interrupted") {
		t.Errorf("stale job %+v %v", j, err)
	}
	fresh, err := jobs.Start(f.ctx, f.manager, EvidenceRequest{Cooperative: f.coop, Season: 2025})
	if err != nil || fresh.ID == stale.ID {
		t.Fatalf("start after an interrupted job: %v %+v", err, fresh)
	}
	failed := waitJob(t, jobs, f.manager, fresh.ID)
	mu.Lock()
	defer mu.Unlock()
	if failed.Status != JobFailed || failed.Error != "internal error" || len(logged) != 1 || !strings.Contains(logged[0].Error(), "font cache full") {
		t.Errorf("failed job %+v, logged %v", failed, logged)
	}
	if n := f.blobCount(); n != 1 { // the laboratory report only
		t.Errorf("%d blobs after a failed job", n)
	}
}
