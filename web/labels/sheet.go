package labels

import (
	"errors"
	"io"
	"math"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/web/i18n"
)

// Grid is an A4 sheet of self-adhesive labels, in millimetres. The
// sheets are the common ones sold in Morocco and France (70×37 mm, 24 per
// sheet, edge to edge; 99.1×38.1 mm, 14 per sheet; 48.5×25.4 mm, 40 per
// sheet); the labels are centred on the page, as the sheets are.
type Grid struct {
	name       string
	cols, rows int
	w, h, gapX float64
	pad        float64 // white margin inside a label; 3x8 sheets run edge to edge, where printers leave 3–4 mm unprinted
	fontSize   float64 // of the body text, in points; shrunk to fit
}

// Grids are the sheets we print on.
func Grids() []Grid {
	return []Grid{
		{name: "3x8", cols: 3, rows: 8, w: 70, h: 37, pad: 3.5, fontSize: 8},
		{name: "2x7", cols: 2, rows: 7, w: 99.1, h: 38.1, gapX: 2.5, pad: 3, fontSize: 9},
		{name: "4x10", cols: 4, rows: 10, w: 48.5, h: 25.4, pad: 1.5, fontSize: 6.5},
	}
}

// GridOf returns the grid of a name; empty is 3x8.
func GridOf(name string) (Grid, error) {
	if name == "" {
		name = "3x8"
	}
	var names []string
	for _, g := range Grids() {
		if g.name == name {
			return g, nil
		}
		names = append(names, g.name)
	}
	return Grid{}, problem.Field("grid", "must be one of %s", strings.Join(names, ", "))
}

const (
	a4W, a4H = 210.0, 297.0
	// minModuleMM is the smallest printed QR module we accept. GS1's symbol
	// specification for QR codes read by consumers' phones puts the minimum
	// X-dimension at about 0.4 mm (0.396 mm); below it, phone cameras at
	// reading distance start to blur neighbouring modules, and a 300 dpi
	// label printer would have fewer than 5 dots per module to draw it with.
	minModuleMM = 0.4
	// printerDotMM is one dot at 300 dpi (two at 600 dpi). Modules are a
	// whole number of dots so that every module prints with the same width;
	// a module of 4.7 dots prints as 4 or 5 dots and the symbol warps.
	printerDotMM = 25.4 / 300
	// qrWidthShare is the share of a label's width the QR may take; the rest
	// is for the legally useful text.
	qrWidthShare = 0.42
)

// qrLayout chooses the printed size of a QR symbol of `modules` modules a
// side, quiet zone included (go-qrcode's Bitmap: version v has 17+4v
// modules, plus 4 white ones on each side). The module size is the largest
// whole number of printer dots that fits the QR box of the grid (the label's
// height less the padding, and at most qrWidthShare of its width), and it
// must be at least minModuleMM. When it is not, the QR may grow up to the
// label's full height, still at whole dots; when even that is too small the
// grid cannot carry this URL legibly and the caller asks for a larger one.
// The URL decides the version. Measured with go-qrcode at level M: /t/{lot}
// URLs (about 57 bytes) are version 4, 41 modules with the quiet zone;
// /01/{gtin}/10/{lot}/21/{serial} URLs are version 5 (84 bytes, 45
// modules) or, with a long public URL and a 20-character lot, version 6
// (105 bytes, 49 modules). Modules then print at 0.59–0.68 mm on 3x8,
// 0.59–0.76 mm on 2x7 and 0.42 mm (5 dots) on 4x10, the symbol 17–21 mm
// wide there.
func qrLayout(g Grid, modules int) (module float64, err error) {
	n := float64(modules)
	box := math.Min(g.h-2*g.pad, g.w*qrWidthShare)
	module = math.Floor(box/n/printerDotMM) * printerDotMM
	if module >= minModuleMM {
		return module, nil
	}
	module = math.Ceil(minModuleMM/printerDotMM) * printerDotMM
	if module*n <= g.h-1 { // the quiet zone stands in for the padding
		return module, nil
	}
	return 0, problem.Field("grid", "the trace code needs a QR code of %d modules a side, too dense to print legibly (modules of at least %.1f mm) on %s labels; choose a larger grid", modules, minModuleMM, g.name)
}

type SheetOptions struct {
	Title    string
	Created  time.Time
	Compress bool // false only in tests, to read the text back
	// Text writes the label's mentions (lot, best-before); the sheet's
	// language. The core PDF fonts have no Arabic glyphs, so sheets are
	// printed in French (see WriteSheet).
	Text *i18n.Locale
}

// WriteSheet draws labels on as many A4 pages of the grid as needed.
//
// The text is in opt.Text's language, and that is French: the PDF's core fonts (Helvetica) are cp1252, which
// covers French accents through fpdf's Unicode translator but has no Arabic
// glyphs; printing Arabic would need an embedded TrueType font with Arabic
// glyphs and contextual shaping and right-to-left ordering, which fpdf does
// not do. The Arabic names stay on the trace page the QR opens.
func WriteSheet(w io.Writer, g Grid, labels []Label, opt SheetOptions) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(opt.Compress)
	pdf.SetTitle(opt.Title, true)
	pdf.SetCreator("Terroir", true)
	pdf.SetCreationDate(opt.Created)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	if opt.Text == nil {
		return errors.New("labels: a sheet needs its language (SheetOptions.Text)")
	}
	d := labelDrawer{pdf: pdf, tr: tr, g: g, l: opt.Text}

	left := (a4W - float64(g.cols)*g.w - float64(g.cols-1)*g.gapX) / 2
	top := (a4H - float64(g.rows)*g.h) / 2
	perPage := g.cols * g.rows
	for i, lc := range labels {
		if i%perPage == 0 {
			pdf.AddPage()
		}
		cell := i % perPage
		x := left + float64(cell%g.cols)*(g.w+g.gapX)
		y := top + float64(cell/g.cols)*g.h
		if err := d.label(x, y, lc); err != nil {
			return err
		}
	}
	if err := pdf.Error(); err != nil {
		return err
	}
	return pdf.Output(w)
}

type labelDrawer struct {
	pdf *fpdf.Fpdf
	tr  func(string) string
	g   Grid
	l   *i18n.Locale
}

// label draws one label with its top-left corner at (x, y): the QR on the
// left, vertically centred, and the text on the right, shrunk until it fits.
func (d labelDrawer) label(x, y float64, lc Label) error {
	q, err := qrcode.New(lc.URL, qrcode.Medium)
	if err != nil {
		return err
	}
	bitmap := q.Bitmap() // includes the 4-module quiet zone
	module, err := qrLayout(d.g, len(bitmap))
	if err != nil {
		return err
	}
	side := module * float64(len(bitmap))
	qx, qy := x+math.Max(d.g.pad-4*module, 0.5), y+(d.g.h-side)/2
	d.drawQR(qx, qy, module, bitmap)

	tx := qx + side + 0.5 // the quiet zone's 4 modules separate the QR from the text
	tw := x + d.g.w - d.g.pad - tx
	th := d.g.h - 2*d.g.pad
	// Shrink the text until it fits without cutting anything, then centre
	// it vertically; at the smallest size, cut what still does not fit.
	size := d.g.fontSize
	for ; size > minFontPt; size -= 0.25 {
		if h, cut := d.text(tx, 0, tw, size, lc, false); h <= th && !cut {
			break
		}
	}
	h, _ := d.text(tx, 0, tw, size, lc, false)
	d.text(tx, y+d.g.pad+math.Max(th-h, 0)/2, tw, size, lc, true)
	return nil
}

// minFontPt is the smallest text we print: 4.5 pt Helvetica has an x-height
// of about 0.85 mm, close to the 0.9 mm EU food labelling asks of small
// packages (Regulation 1169/2011, annex IV).
const minFontPt = 4.5

// drawQR draws the dark modules as filled rectangles, one per horizontal
// run: vector modules print sharp at any printer resolution.
func (d labelDrawer) drawQR(x, y, module float64, bitmap [][]bool) {
	d.pdf.SetFillColor(0, 0, 0)
	for row, line := range bitmap {
		for col := 0; col < len(line); {
			if !line[col] {
				col++
				continue
			}
			start := col
			for col < len(line) && line[col] {
				col++
			}
			d.pdf.Rect(x+float64(start)*module, y+float64(row)*module, float64(col-start)*module, module, "F")
		}
	}
}

const ptToMM = 25.4 / 72

// text lays out (and when draw is set, draws) the label's text in a column
// of width w from (x, y) at a font size. It returns the height it takes and
// whether some text had to be cut to fit the width.
func (d labelDrawer) text(x, y, w, size float64, lc Label, draw bool) (height float64, cut bool) {
	pdf := d.pdf
	cy := y
	put := func(style string, fs float64, s string) {
		pdf.SetFont("Helvetica", style, fs)
		fitted := d.fit(s, w)
		cut = cut || fitted != s
		if draw {
			pdf.SetTextColor(0, 0, 0)
			pdf.Text(x, cy+fs*ptToMM*0.8, d.tr(fitted))
		}
		cy += fs * ptToMM * 1.2
	}
	pdf.SetFont("Helvetica", "B", size+1)
	product := d.wrap(lc.Product, w, 2)
	for _, l := range product {
		put("B", size+1, l)
	}
	cut = cut || strings.Join(product, " ") != strings.Join(strings.Fields(lc.Product), " ")
	put("B", size, lc.NetQuantity)
	if lc.Category != "" {
		put("B", size, lc.Category)
	}
	lot := d.l.T("label.lot", lc.Lot)
	if lc.Serial != "" {
		lot = d.l.T("label.serial", lot, lc.Serial)
	}
	put("", size, lot)
	if lc.BestBefore != "" {
		date := lc.BestBefore
		if t, err := time.Parse(time.DateOnly, lc.BestBefore); err == nil {
			date = t.Format(d.l.T("label.date_layout"))
		}
		// The legal wording in full, on one line or two; "DDM" (date de
		// durabilité minimale) only where even that does not fit.
		pdf.SetFont("Helvetica", "", size)
		mention := d.l.T("label.best_before")
		switch {
		case d.width(mention+" "+date) <= w:
			put("", size, mention+" "+date)
		case d.width(mention) <= w:
			put("", size, mention)
			put("B", size, date)
		default:
			put("", size, d.l.T("label.best_before_short", date))
			cut = true // the short form only when nothing else fits
		}
	}
	put("", size, lc.Cooperative)
	if len(lc.Marks) > 0 {
		cy += size * ptToMM * 0.3
		bh, bcut := d.badges(x, cy, w, math.Max(size-0.5, minFontPt), lc.Marks, draw)
		cy += bh
		cut = cut || bcut
	}
	return cy - y, cut
}

// badges lays out the certification marks as outlined boxes, side by side
// while they fit the column, each with its control body's code after the
// scheme or, when the two do not fit one line, under it. It returns the
// height they take and whether a text had to be cut.
func (d labelDrawer) badges(x, y, w, size float64, marks []Mark, draw bool) (height float64, cut bool) {
	pdf := d.pdf
	pdf.SetFont("Helvetica", "B", size)
	lineH := size * ptToMM * 1.2
	padX, padY := size*ptToMM*0.4, size*ptToMM*0.25
	inner := w - 2*padX
	cx, cy, rowH := x, y, 0.0
	for _, m := range marks {
		lines := []string{m.Name}
		if m.BodyCode != "" {
			lines = []string{m.Name + " · " + m.BodyCode}
			if d.width(lines[0]) > inner {
				lines = []string{m.Name, m.BodyCode}
			}
		}
		bw := 0.0
		for i, l := range lines {
			lines[i] = d.fit(l, inner)
			cut = cut || lines[i] != l
			bw = math.Max(bw, d.width(lines[i]))
		}
		bw += 2 * padX
		bh := float64(len(lines))*lineH + 2*padY
		if cx > x && cx+bw > x+w {
			cx, cy, rowH = x, cy+rowH+0.6, 0
		}
		if draw {
			pdf.SetDrawColor(20, 90, 50)
			pdf.SetTextColor(20, 90, 50)
			pdf.SetLineWidth(0.2)
			pdf.RoundedRect(cx, cy, bw, bh, math.Min(bh/4, 1), "1234", "D")
			for i, l := range lines {
				pdf.Text(cx+padX, cy+padY+float64(i)*lineH+size*ptToMM*0.85, d.tr(l))
			}
		}
		cx += bw + 0.8
		rowH = math.Max(rowH, bh)
	}
	pdf.SetTextColor(0, 0, 0)
	return cy + rowH - y, cut
}

// width measures s (UTF-8) in the current font.
func (d labelDrawer) width(s string) float64 { return d.pdf.GetStringWidth(d.tr(s)) }

// fit shortens s with an ellipsis until it fits w in the current font.
func (d labelDrawer) fit(s string, w float64) string {
	if d.width(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 1 && d.width(string(r)+"…") > w {
		r = r[:len(r)-1]
	}
	return strings.TrimRight(string(r), " ") + "…"
}

// wrap breaks s into at most maxLines lines of width w (current font), the
// last one shortened with an ellipsis when words remain.
func (d labelDrawer) wrap(s string, w float64, maxLines int) []string {
	words := strings.Fields(s)
	var lines []string
	cur := ""
	for i, word := range words {
		next := strings.TrimSpace(cur + " " + word)
		if cur == "" || d.width(next) <= w {
			cur = next
			continue
		}
		lines = append(lines, cur)
		cur = word
		if len(lines) == maxLines-1 {
			cur = strings.Join(words[i:], " ")
			break
		}
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

// Label is what one label says. Sheet-wide text is repeated on every label
// of a lot; the URL differs per unit when the lot has serials.
type Label struct {
	URL         string
	Product     string
	NetQuantity string // "Poids net : 1 g"
	Lot         string
	Serial      string
	BestBefore  string // YYYY-MM-DD, or empty
	Cooperative string
	// Category is the ISO 3632 mention, "Catégorie I (ISO 3632)", only
	// from traceability.CategoryMention: empty for a lot without a result.
	Category string
	Marks    []Mark
}

// Mark is a certification badge: the scheme's short name and the control
// body's code, which labelling rules require next to the mark.
type Mark struct {
	Name, BodyCode string
}

// Name is the grid's name: "3x8", "2x7", "4x10".
func (g Grid) Name() string { return g.name }
