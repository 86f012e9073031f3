// Package documents renders the PDF documents of the traceability records:
// the summary of a cooperative's evidence file for its control body
// (EvidencePDF, with a map of the parcels' outlines drawn as vector paths)
// and the sheet of an export consignment (ConsignmentPDF). It imports no
// gin: the web layer calls it and serves the bytes, and the evidence jobs of
// the traceability package take EvidencePDF as their renderer.
//
// Text is French, the working language of the cooperatives and of their
// Moroccan and French control bodies. The PDF's core font (Helvetica) is
// cp1252, which covers French through fpdf's Unicode translator but has no
// Arabic glyphs: a name written in Arabic script prints as question marks
// here and stays readable in the CSV files of the same ZIP (UTF-8).
//
// Output is deterministic: the document's dates are the record's, never
// the clock's, so the same records give the same PDF byte for byte.
package documents

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// Page geometry, in millimetres (A4 portrait).
const (
	pageW, pageH = 210.0, 297.0
	margin       = 15.0
	contentW     = pageW - 2*margin
	lineH        = 4.2
)

// doc is a document being written, with the helpers every page uses.
type doc struct {
	pdf *fpdf.Fpdf
	tr  func(string) string
}

// newDoc starts an A4 document with a running header (title) and a footer
// with page numbers.
func newDoc(title, subject string, created time.Time) *doc {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.SetMargins(margin, margin+6, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.SetCreator("Terroir", true)
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetCatalogSort(true)
	d := &doc{pdf: pdf, tr: pdf.UnicodeTranslatorFromDescriptor("")}
	pdf.SetTitle(title, true)
	pdf.SetSubject(subject, true)
	pdf.AliasNbPages("{nb}")
	pdf.SetHeaderFunc(func() {
		pdf.SetFont("Helvetica", "", 7.5)
		pdf.SetTextColor(110, 110, 110)
		pdf.SetXY(margin, 8)
		pdf.CellFormat(contentW, 4, d.tr(title), "B", 0, "L", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.SetY(margin + 6)
	})
	pdf.SetFooterFunc(func() {
		pdf.SetY(-11)
		pdf.SetFont("Helvetica", "", 7.5)
		pdf.SetTextColor(110, 110, 110)
		pdf.CellFormat(contentW/2, 4, d.tr("Terroir — "+created.UTC().Format("02/01/2006 15:04")+" UTC"), "", 0, "L", false, 0, "")
		pdf.CellFormat(contentW/2, 4, fmt.Sprintf("Page %d/{nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	return d
}

func (d *doc) output(w io.Writer) error {
	if err := d.pdf.Error(); err != nil {
		return err
	}
	return d.pdf.Output(w)
}

// title writes the document's title block.
func (d *doc) title(title, subtitle string) {
	d.pdf.SetFont("Helvetica", "B", 16)
	d.pdf.MultiCell(contentW, 7, d.tr(title), "", "L", false)
	if subtitle != "" {
		d.pdf.SetFont("Helvetica", "", 10.5)
		d.pdf.MultiCell(contentW, 5.5, d.tr(subtitle), "", "L", false)
	}
	d.pdf.Ln(3)
}

// heading starts a section, on a new page when less than need mm remain.
func (d *doc) heading(text string, need float64) {
	if d.pdf.GetY()+need > pageH-margin {
		d.pdf.AddPage()
	}
	d.pdf.Ln(2)
	d.pdf.SetFont("Helvetica", "B", 12)
	d.pdf.SetFillColor(244, 236, 220)
	d.pdf.CellFormat(contentW, 7, d.tr(text), "", 1, "L", true, 0, "")
	d.pdf.Ln(1.5)
}

// para writes a paragraph.
func (d *doc) para(text string) {
	d.pdf.SetFont("Helvetica", "", 9)
	d.pdf.MultiCell(contentW, lineH, d.tr(text), "", "L", false)
	d.pdf.Ln(1)
}

// note writes a small grey paragraph (sources, explanations).
func (d *doc) note(text string) {
	d.pdf.SetFont("Helvetica", "I", 7.5)
	d.pdf.SetTextColor(90, 90, 90)
	d.pdf.MultiCell(contentW, 3.6, d.tr(text), "", "L", false)
	d.pdf.SetTextColor(0, 0, 0)
	d.pdf.Ln(1)
}

// pairs writes label: value lines in two columns.
func (d *doc) pairs(kv [][2]string) {
	for _, p := range kv {
		if d.pdf.GetY()+lineH > pageH-margin {
			d.pdf.AddPage()
		}
		d.pdf.SetFont("Helvetica", "B", 9)
		d.pdf.CellFormat(55, lineH+0.6, d.tr(p[0]), "", 0, "L", false, 0, "")
		d.pdf.SetFont("Helvetica", "", 9)
		d.pdf.MultiCell(contentW-55, lineH+0.6, d.tr(p[1]), "", "L", false)
	}
	d.pdf.Ln(1)
}

// column of a table: its title, its share of the width and its alignment.
type column struct {
	title string
	w     float64 // mm
	align string  // L, R, C
}

// table writes rows under a header row, wrapping each cell and repeating
// the header on every page it runs onto. An empty table says so.
func (d *doc) table(cols []column, rows [][]string) {
	const fs, lh = 7.5, 3.4
	total := 0.0
	for _, c := range cols {
		total += c.w
	}
	scale := contentW / total
	header := func() {
		d.pdf.SetFont("Helvetica", "B", fs)
		d.pdf.SetFillColor(230, 224, 212)
		h := lh + 2
		for _, c := range cols {
			lines := d.pdf.SplitLines([]byte(d.tr(c.title)), c.w*scale-1.5)
			h = max(h, float64(len(lines))*lh+1.5)
		}
		x, y := margin, d.pdf.GetY()
		for _, c := range cols {
			w := c.w * scale
			d.pdf.Rect(x, y, w, h, "DF")
			for i, line := range d.pdf.SplitLines([]byte(d.tr(c.title)), w-1.5) {
				d.pdf.SetXY(x+0.75, y+0.75+float64(i)*lh)
				d.pdf.CellFormat(w-1.5, lh, string(line), "", 0, c.align, false, 0, "")
			}
			x += w
		}
		d.pdf.SetXY(margin, y+h)
	}
	if d.pdf.GetY()+3*lh+4 > pageH-margin {
		d.pdf.AddPage()
	}
	header()
	d.pdf.SetFont("Helvetica", "", fs)
	if len(rows) == 0 {
		d.pdf.CellFormat(contentW, lh+2, d.tr("(aucun)"), "LRB", 1, "C", false, 0, "")
		d.pdf.Ln(2)
		return
	}
	d.pdf.SetDrawColor(180, 175, 165)
	for _, row := range rows {
		cells := make([][][]byte, len(cols))
		h := lh + 1.5
		for i, c := range cols {
			text := ""
			if i < len(row) {
				text = row[i]
			}
			cells[i] = d.pdf.SplitLines([]byte(d.tr(text)), c.w*scale-1.5)
			h = max(h, float64(len(cells[i]))*lh+1.5)
		}
		if d.pdf.GetY()+h > pageH-margin {
			d.pdf.AddPage()
			header()
			d.pdf.SetFont("Helvetica", "", fs)
		}
		x, y := margin, d.pdf.GetY()
		for i, c := range cols {
			w := c.w * scale
			d.pdf.Rect(x, y, w, h, "D")
			for j, line := range cells[i] {
				d.pdf.SetXY(x+0.75, y+0.75+float64(j)*lh)
				d.pdf.CellFormat(w-1.5, lh, string(line), "", 0, c.align, false, 0, "")
			}
			x += w
		}
		d.pdf.SetXY(margin, y+h)
	}
	d.pdf.SetDrawColor(0, 0, 0)
	d.pdf.Ln(2)
}

// Words of the records, in French.

var kindsFR = map[string]string{
	"saffron": "safran (stigmates frais)", "saffron_dried": "safran séché", "argan": "fruits d'arganier",
	"argan_kernels": "amandons d'argan", "argan_oil": "huile d'argan", "olive": "olives", "olive_oil": "huile d'olive",
	"pamm": "PAM (plantes fraîches)", "pamm_dried": "PAM séchées", "essential_oil": "huile essentielle", "hydrosol": "hydrolat",
	"rose": "roses", "honey": "miel", "almond": "amandes", "almond_kernels": "amandes décortiquées", "crafts": "artisanat",
}

var processesFR = map[string]string{
	"drying": "séchage", "sorting": "tri", "cracking": "concassage", "distillation": "distillation",
	"pressing": "pressage", "extraction": "extraction", "blending": "assemblage", "packing": "conditionnement",
}

var statusesFR = map[string]string{"valid": "valide", "suspended": "suspendu", "withdrawn": "retiré", "expired": "expiré"}

var gendersFR = map[string]string{"female": "F", "male": "H"}

var flagKindsFR = map[string]string{"harvest": "récolte", "yield": "rendement", "lab": "laboratoire"}

func fr(m map[string]string, key string) string {
	if v, ok := m[key]; ok {
		return v
	}
	return key
}

// dateFR writes YYYY-MM-DD as DD/MM/YYYY.
func dateFR(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return t.Format("02/01/2006")
}

func timeFR(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("02/01/2006")
}

func yesNo(b bool) string {
	if b {
		return "oui"
	}
	return "non"
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
