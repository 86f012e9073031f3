package labels

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"

	"github.com/skip2/go-qrcode"

	"github.com/terroir-coop/terroir/internal/problem"
)

// Level is a QR code's error-correction level.
type Level int

// The levels: L 7 %, M 15 %, Q 25 %, H 30 % of the symbol may be lost.
const (
	LevelL Level = iota
	LevelM
	LevelQ
	LevelH
)

// ParseLevel reads a level's letter; empty is M. The default is M (15 % of
// the symbol can be lost): our codes are printed small, on jars of saffron
// and bottles of oil, and read by phone cameras. A higher level (Q 25 %, H
// 30 %) makes the same URL need a bigger QR version, so at a given printed
// size every module is smaller and harder to resolve, which on a 2 cm label
// costs more reads than the extra damage tolerance saves; L (7 %) leaves too
// little for the smudges and scratches of oily bottles and dusty shop
// shelves. M is also what GS1 recommends for Digital Link QR codes on
// consumer products.
func ParseLevel(v string) (Level, error) {
	switch v {
	case "", "M":
		return LevelM, nil
	case "L":
		return LevelL, nil
	case "Q":
		return LevelQ, nil
	case "H":
		return LevelH, nil
	}
	return 0, problem.Field("level", "must be L, M, Q or H, not %q", v)
}

func (l Level) recovery() qrcode.RecoveryLevel {
	switch l {
	case LevelL:
		return qrcode.Low
	case LevelQ:
		return qrcode.High // go-qrcode calls Q "High"
	case LevelH:
		return qrcode.Highest
	}
	return qrcode.Medium
}

// PNG draws text as a QR code of about size×size pixels.
func PNG(text string, size int, level Level) ([]byte, error) {
	q, err := qrcode.New(text, level.recovery())
	if err != nil {
		return nil, err
	}
	return qrPNG(q, size)
}

// SVG draws text as a QR code in an inline SVG (class "qr"): one path of
// dark modules, so it prints sharp at any size and needs no image request
// (the API's QR image needs a bearer token, which a receipt page does not
// have). The markup is built from the bitmap alone, never from text, so it
// is safe to put in a page as it is.
func SVG(text string) (string, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", err
	}
	bm := q.Bitmap() // includes the quiet zone
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-hidden="true"><rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="`, len(bm), len(bm))
	for y, row := range bm {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start, y, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}

// qrPNG renders q as a size×size PNG whose modules are all the same whole
// number of pixels, centred on white. go-qrcode's own PNG(size) stretches
// the symbol to exactly size pixels by nearest neighbour, so modules come
// out 1 or 2 pixels apart in width at small sizes, which scanners and
// decoders misread. A module is at least two pixels: with one, decoders
// (a phone's, and the tests' ZXing) fail on some symbols, so sizes too small
// for that grow to fit.
func qrPNG(q *qrcode.QRCode, size int) ([]byte, error) {
	symbol := q.Image(-1).Bounds().Dx() // modules a side, quiet zone included
	scale := max(size/symbol, 2)
	sym := q.Image(-scale)
	size = max(size, sym.Bounds().Dx())
	canvas := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	off := (size - sym.Bounds().Dx()) / 2
	draw.Draw(canvas, sym.Bounds().Add(image.Pt(off, off)), sym, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, canvas); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
