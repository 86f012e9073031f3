package page

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/documents"
)

// Laboratory reports (issue 18): the form fields of a result and the
// report's upload, read alike by the API and the lot page, and the one way
// a stored report is served.

// LabResultForm reads a laboratory result from form values (a multipart
// form of the API or of the lot page): the same names as the JSON fields,
// "laboratory.name" and "laboratory.accreditation" for the laboratory.
func LabResultForm(value func(string) string) traceability.NewLabResult {
	return traceability.NewLabResult{
		Laboratory:   traceability.Laboratory{Name: value("laboratory.name"), Accreditation: value("laboratory.accreditation")},
		ReportNumber: value("report_number"), SampleDate: value("sample_date"), ReportDate: value("report_date"),
		Method: value("method"), Edition: value("edition"), Form: value("form"),
		E257: traceability.Figure(value("e257")), E330: traceability.Figure(value("e330")), E440: traceability.Figure(value("e440")),
		Moisture: traceability.Figure(value("moisture")), FloralWaste: traceability.Figure(value("floral_waste")),
		ForeignMatter: traceability.Figure(value("foreign_matter")), ReportedCategory: value("reported_category"),
	}
}

// ReadReportUpload returns the multipart field "report" of a request, or
// nil when the form has none (a result may be recorded without its file).
// Its size and type are checked by the service.
func ReadReportUpload(c *gin.Context) (*traceability.Upload, error) {
	fh, err := c.FormFile("report")
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, uploadReportError(err)
	}
	if fh.Size == 0 {
		return nil, nil
	}
	f, err := fh.Open()
	if err != nil {
		return nil, uploadReportError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, traceability.MaxReportBytes+1))
	if err != nil {
		return nil, uploadReportError(err)
	}
	return &traceability.Upload{Name: fh.Filename, Data: data}, nil
}

func uploadReportError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return problem.New(problem.TooLarge, "a report may be at most %d bytes (10 MB)", traceability.MaxReportBytes).At("report")
	}
	return problem.Field("report", "the uploaded file could not be read")
}

// ServeReport writes a stored laboratory report with the service's headers:
// its own content type, as an attachment, never sniffed, sandboxed.
func ServeReport(c *gin.Context, r traceability.Report) {
	for k, v := range r.Headers() {
		c.Header(k, v)
	}
	c.Header("Content-Length", strconv.FormatInt(r.Size, 10))
	c.Status(http.StatusOK)
	_, _ = io.Copy(c.Writer, r.Body)
}

// ServeEvidence writes an evidence file as a ZIP attachment, with its
// SHA-256 in a header for the one who archives it.
func ServeEvidence(c *gin.Context, dl traceability.EvidenceDownload) {
	c.Header("Content-Type", dl.ContentType)
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, dl.FileName))
	c.Header("Content-Length", strconv.FormatInt(dl.Size, 10))
	c.Header("X-Content-SHA256", dl.SHA256)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Status(http.StatusOK)
	_, _ = io.Copy(c.Writer, dl.Body)
}

// ServeConsignmentSheet writes a consignment's sheet, CSV or PDF, as an
// attachment named after it.
func ServeConsignmentSheet(c *gin.Context, cs traceability.Consignment, format string) {
	var buf bytes.Buffer
	var err error
	ctype := "text/csv; charset=utf-8"
	if format == "pdf" {
		ctype, err = "application/pdf", documents.ConsignmentPDF(&buf, cs)
	} else {
		err = traceability.ConsignmentCSV(&buf, cs)
	}
	if err != nil {
		Fail(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="consignment-%s.%s"`, cs.ID, format))
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, ctype, buf.Bytes())
}
