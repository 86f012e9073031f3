package traceability

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/terroir-coop/terroir/internal/problem"
)

// File formats a register import reads, by content.
const (
	FormatCSV     = "csv"
	FormatXLSX    = "xlsx"
	FormatGeoJSON = "geojson"
	FormatKML     = "kml"
	FormatGPX     = "gpx"
)

// Limits of one import file. Why these: the largest register of the network
// (a federation's parcels, or a season of daily pickings of one
// cooperative) is a few thousand rows; 20 000 rows leaves room while the
// preview of the whole file stays a few megabytes in memory, and 5 MB is
// an XLSX of about 100 000 cells or a GeoJSON of 2 000 walked outlines.
// Larger files are split; the CLI may raise both (ImportLimits).
const (
	MaxImportBytes = 5 << 20
	MaxImportRows  = 20_000
	// maxUnzippedXLSX bounds what an XLSX may inflate to, against
	// compression bombs: excelize's own default is 16 GB.
	maxUnzippedXLSX = 64 << 20
	// headerSearchRows is how far down a sheet the header row is looked
	// for: registers often start with a title and a blank line.
	headerSearchRows = 20
)

// ImportProgress tells a long import where it is: Stage is "read" (the file
// is parsed: Total rows), "check" (rows validated) or "write" (rows stored).
type ImportProgress struct {
	Stage string `json:"stage"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// ImportOption changes how Preview and Apply read a file.
type ImportOption func(*importOptions)

type importOptions struct {
	sheet           string
	progress        func(ImportProgress)
	acceptNewPlaces bool
	maxBytes        int64
	maxRows         int
	legacyHarvests  bool // ImportHarvests: its fixed header and ISO dates
}

// ImportSheet reads the named sheet of a workbook instead of the first.
func ImportSheet(name string) ImportOption {
	return func(o *importOptions) { o.sheet = strings.TrimSpace(name) }
}

// ImportProgressFunc calls fn as the import advances (every few hundred
// rows and at the end of each stage), for a progress line on large files.
func ImportProgressFunc(fn func(ImportProgress)) ImportOption {
	return func(o *importOptions) { o.progress = fn }
}

// AcceptNewPlaces records villages and communes that neither the gazetteer
// nor the cooperative knows yet, instead of refusing their rows; the
// preview lists them as new places.
func AcceptNewPlaces() ImportOption {
	return func(o *importOptions) { o.acceptNewPlaces = true }
}

// ImportLimits replaces MaxImportBytes and MaxImportRows (the CLI, which
// reads a local file, may allow more).
func ImportLimits(maxBytes int64, maxRows int) ImportOption {
	return func(o *importOptions) { o.maxBytes, o.maxRows = maxBytes, maxRows }
}

func newImportOptions(opts []ImportOption) importOptions {
	o := importOptions{maxBytes: MaxImportBytes, maxRows: MaxImportRows}
	for _, fn := range opts {
		fn(&o)
	}
	return o
}

func (o importOptions) report(stage string, done, total int) {
	if o.progress != nil {
		o.progress(ImportProgress{Stage: stage, Done: done, Total: total})
	}
}

// importTable is a file read into rows of cells, whatever its format.
type importTable struct {
	format      string
	delimiter   string   // CSV: "," ";" or "\t"
	sheet       string   // XLSX: the sheet read
	sheets      []string // XLSX: every sheet of the workbook
	serialDates bool     // XLSX: a date cell is a day number
	date1904    bool     // XLSX: the workbook counts days from 1904
	rowLabel    string   // what a row is called: row, feature, placemark, track
	headerRow   int      // the row number of the header (0 for geo files)
	header      []string
	rows        []tableRow
}

// tableRow is one data row: its number as the user sees it (spreadsheet
// row, or 1-based feature), its cells aligned with the header, and for geo
// files the shape read and any problem with it.
type tableRow struct {
	number int
	cells  []string // as the user sees them
	// values are a workbook's cells as stored, read for numbers and dates
	// (nil for other formats, whose cells are their values).
	values   []string
	extra    int // cells beyond the header that are not empty
	shape    *Geometry
	shapeErr *RowError
	parseErr string // a CSV line that could not be read
}

// readImportFile reads the whole file (at most the size limit) and turns it
// into a table. The format is decided by the content, not the name: a CSV
// saved as .xlsx, or a photo sent as .csv, is recognised for what it is.
func readImportFile(kind ImportKind, filename string, r io.Reader, o importOptions) (importTable, error) {
	data, err := io.ReadAll(io.LimitReader(r, o.maxBytes+1))
	if err != nil {
		return importTable{}, problem.Field("file", "could not be read: %s", "the upload was interrupted")
	}
	if int64(len(data)) > o.maxBytes {
		return importTable{}, &problem.Error{Code: problem.TooLarge, Field: "file",
			Message: fmt.Sprintf("is larger than %d MB: split it into smaller files", o.maxBytes>>20)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return importTable{}, problem.Field("file", "is empty")
	}
	format, text, err := sniffFormat(filename, data)
	if err != nil {
		return importTable{}, err
	}
	if kind != ImportKindParcels && (format == FormatGeoJSON || format == FormatKML || format == FormatGPX) {
		return importTable{}, problem.Field("file", "is a %s file: only parcels can be imported from map files", strings.ToUpper(format))
	}
	var t importTable
	switch format {
	case FormatXLSX:
		t, err = readXLSX(data, o)
	case FormatCSV:
		t, err = readCSV(text, o.legacyHarvests)
	case FormatGeoJSON:
		t, err = readGeoJSON(text, o)
	case FormatKML:
		t, err = readKML(text, o)
	case FormatGPX:
		t, err = readGPX(text, o)
	}
	if err != nil {
		return importTable{}, err
	}
	t.format = format
	if t.rowLabel == "" {
		t.rowLabel = "row"
	}
	if o.legacyHarvests {
		if err := checkLegacyHeader(&t); err != nil {
			return importTable{}, err
		}
	} else if format == FormatCSV || format == FormatXLSX {
		if err := t.findHeader(kind); err != nil {
			return importTable{}, err
		}
	}
	if len(t.rows) > o.maxRows {
		return importTable{}, problem.Field("file", "has more than %d rows: split it into smaller files", o.maxRows)
	}
	return t, nil
}

// sniffFormat names a file's format from its first bytes, and returns the
// text of a text file as UTF-8 without its byte-order mark.
func sniffFormat(filename string, data []byte) (string, string, error) {
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return FormatXLSX, "", nil
	case bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return "", "", problem.Field("file", "is an old Excel file (.xls): save it as an Excel workbook (.xlsx) or as CSV UTF-8")
	case bytes.HasPrefix(data, []byte("%PDF")):
		return "", "", problem.Field("file", "is a PDF document: export the register from its spreadsheet as .xlsx or CSV")
	case bytes.HasPrefix(data, []byte("\x89PNG")), bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}), bytes.HasPrefix(data, []byte("GIF8")):
		return "", "", problem.Field("file", "is an image: send the spreadsheet itself (.xlsx or CSV)")
	}
	var text string
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		// Excel's "Unicode text" is UTF-16 with a byte-order mark.
		text = decodeUTF16(data)
	default:
		data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
		if !utf8.Valid(data) {
			return "", "", problem.Field("file", "is not UTF-8 text: save it from the spreadsheet as \"CSV UTF-8\" or as .xlsx")
		}
		text = string(data)
	}
	if strings.ContainsRune(text, 0) {
		return "", "", problem.Field("file", "is not a spreadsheet, CSV, GeoJSON, KML or GPX file")
	}
	trimmed := strings.TrimLeft(text, " \t\r\n")
	switch {
	case strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "["):
		return FormatGeoJSON, text, nil
	case strings.HasPrefix(trimmed, "<"):
		switch xmlRoot(trimmed) {
		case "kml":
			return FormatKML, text, nil
		case "gpx":
			return FormatGPX, text, nil
		}
		return "", "", problem.Field("file", "is an XML or HTML file but neither KML nor GPX")
	}
	_ = filename // the name is not trusted: the content decides
	return FormatCSV, text, nil
}

func decodeUTF16(data []byte) string {
	big := data[0] == 0xFE
	data = data[2:]
	u := make([]uint16, 0, len(data)/2)
	for i := 0; i+1 < len(data); i += 2 {
		if big {
			u = append(u, uint16(data[i])<<8|uint16(data[i+1]))
		} else {
			u = append(u, uint16(data[i+1])<<8|uint16(data[i]))
		}
	}
	return string(utf16.Decode(u))
}

// readCSV reads a CSV file whose delimiter is a comma, a semicolon (French
// spreadsheets) or a tab, whichever splits its first lines most
// consistently.
func readCSV(text string, commaOnly bool) (importTable, error) {
	delim := ','
	if !commaOnly {
		delim = detectDelimiter(text)
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	t := importTable{delimiter: string(delim)}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return importTable{}, err
			}
			t.rows = append(t.rows, tableRow{number: pe.StartLine, parseErr: pe.Err.Error()})
			continue
		}
		line, _ := cr.FieldPos(0)
		t.rows = append(t.rows, tableRow{number: line, cells: rec})
	}
	return t, nil
}

// detectDelimiter scores each candidate on the first lines: the delimiter
// that gives the most lines the same number (above one) of fields wins,
// semicolon first on a tie.
func detectDelimiter(text string) rune {
	sample := text
	if lines := strings.SplitAfterN(text, "\n", 31); len(lines) == 31 {
		sample = strings.Join(lines[:30], "")
	}
	best, bestScore := ',', -1
	for _, d := range []rune{';', ',', '\t'} {
		cr := csv.NewReader(strings.NewReader(sample))
		cr.Comma = d
		cr.FieldsPerRecord = -1
		cr.LazyQuotes = true
		counts := map[int]int{}
		for {
			rec, err := cr.Read()
			if err != nil {
				break
			}
			if len(rec) > 1 {
				counts[len(rec)]++
			}
		}
		score := 0
		for n, c := range counts {
			score = max(score, c*1000+n)
		}
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return best
}

// readXLSX reads the first sheet of a workbook, or the one asked for, with
// raw cell values: numbers as stored (no thousands separators or rounding
// from the cell's format) and dates as day numbers.
func readXLSX(data []byte, o importOptions) (importTable, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxUnzippedXLSX, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		return importTable{}, problem.Field("file", "is a ZIP file but not an Excel workbook (.xlsx): save it as .xlsx or as CSV UTF-8")
	}
	defer f.Close()
	t := importTable{sheets: f.GetSheetList(), serialDates: true}
	if len(t.sheets) == 0 {
		return importTable{}, problem.Field("file", "has no sheet")
	}
	t.sheet = t.sheets[0]
	if o.sheet != "" {
		found := false
		for _, s := range t.sheets {
			if strings.EqualFold(strings.TrimSpace(s), o.sheet) {
				t.sheet, found = s, true
			}
		}
		if !found {
			return importTable{}, problem.Field("sheet", "the workbook has no sheet %q; its sheets are %s", o.sheet, strings.Join(t.sheets, ", "))
		}
	}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		t.date1904 = *props.Date1904
	}
	// Each row is read twice, in step: as stored (numbers and dates) and
	// as shown (a code 007 formatted with leading zeros is "007", not 7).
	raw, err := f.Rows(t.sheet)
	if err != nil {
		return importTable{}, problem.Field("file", "sheet %q could not be read", t.sheet)
	}
	defer raw.Close()
	shown, err := f.Rows(t.sheet)
	if err != nil {
		return importTable{}, problem.Field("file", "sheet %q could not be read", t.sheet)
	}
	defer shown.Close()
	for n := 1; raw.Next() && shown.Next(); n++ {
		cells, err1 := raw.Columns(excelize.Options{RawCellValue: true})
		text, err2 := shown.Columns()
		if err1 != nil || err2 != nil {
			return importTable{}, problem.Field("file", "sheet %q could not be read at row %d", t.sheet, n)
		}
		if n > o.maxRows+headerSearchRows {
			return importTable{}, problem.Field("file", "has more than %d rows: split it into smaller files", o.maxRows)
		}
		t.rows = append(t.rows, tableRow{number: n, cells: text, values: cells})
	}
	return t, nil
}

// findHeader takes the header out of the rows: the first row, among the
// first few, whose cells name the most fields of the kind. Rows above it (a
// title, a date) are dropped; empty rows below it are skipped.
func (t *importTable) findHeader(kind ImportKind) error {
	best, bestCount := -1, 0
	for i, r := range t.rows {
		if i >= headerSearchRows {
			break
		}
		if n := matchedFields(MatchColumns(kind, r.cells)); n > bestCount {
			best, bestCount = i, n
		}
	}
	if best < 0 {
		want := []string{}
		for _, sp := range columnSpecs(kind) {
			want = append(want, sp.synonyms[0])
		}
		return problem.Field("file", "no column was recognised: the first row must name the columns, such as %s", strings.Join(want, ", "))
	}
	t.headerRow, t.header = t.rows[best].number, t.rows[best].cells
	var data []tableRow
	for _, r := range t.rows[best+1:] {
		if r.parseErr == "" && blankCells(r.cells) {
			continue
		}
		if len(r.cells) > len(t.header) {
			for _, c := range r.cells[len(t.header):] {
				if strings.TrimSpace(c) != "" {
					r.extra++
				}
			}
		}
		data = append(data, r)
	}
	t.rows = data
	return nil
}

func blankCells(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// xmlRoot returns the local name of an XML document's root element.
func xmlRoot(text string) string {
	d := xml.NewDecoder(strings.NewReader(text))
	d.Strict = false
	for range 64 {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return strings.ToLower(se.Name.Local)
		}
	}
	return ""
}
