package documents

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/terroir-coop/terroir/traceability"
)

// BenchmarkEvidencePDF renders the summary of a season of 300 harvests on
// 300 walked parcels, 300 dryings with their results and 1 200 lots (the
// size of BenchmarkSeasonEvidence in traceability): with it, the whole
// evidence file of such a season.
//
//	go test ./web/documents -run '^$' -bench EvidencePDF -benchtime 5x
func BenchmarkEvidencePDF(b *testing.B) {
	f := sampleEvidence()
	base := f.Parcels[0]
	step, result, harvest := f.Steps[0], f.LabResults[0], f.Harvests[0]
	f.Parcels, f.Steps, f.LabResults, f.Harvests = nil, nil, nil, nil
	for i := range 300 {
		p := base
		p.ID, p.Code = fmt.Sprintf("prc_%d", i), fmt.Sprintf("P-%03d", i)
		p.Lon, p.Lat = base.Lon+float64(i%20)*0.002, base.Lat+float64(i/20)*0.002
		p.Location = square(p.Lon, p.Lat, 34.6)
		f.Parcels = append(f.Parcels, p)
		f.Steps = append(f.Steps, step)
		f.LabResults = append(f.LabResults, result)
		h := harvest
		h.Parcel = p.ID
		f.Harvests = append(f.Harvests, h)
		for range 4 {
			f.Accounts = append(f.Accounts, traceability.EvidenceAccount{Lot: fmt.Sprintf("SAF-%08d", i), Kind: "saffron_dried", Unit: "mg"})
		}
	}
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := EvidencePDF(io.Writer(&buf), f); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size)/1024, "KiB/pdf")
}
