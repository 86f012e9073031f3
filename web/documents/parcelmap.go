package documents

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/go-pdf/fpdf"

	"github.com/terroir-coop/terroir/traceability"
)

// The map of parcels is drawn as vector paths, not a picture: an outline
// stays sharp at any zoom, prints at the control body, and needs no tile
// server (none is reachable from a cooperative's connection, and tiles
// would put a third party's licence in the file). Coordinates are projected
// on a local plane around the parcels' centre (equirectangular, metres east
// and north scaled by the cosine of the latitude), which at the size of a
// cooperative's territory (tens of kilometres) is within a fraction of a
// percent of the true shape. Outlines are filled with the even-odd rule, so
// a hole in a polygon stays a hole; a parcel recorded as a point, or too
// small to see at the map's scale, is a dot. A scale bar gives distances.

// Map colours.
var (
	parcelFill    = [3]int{236, 170, 60}
	parcelOutline = [3]int{120, 60, 10}
)

type mapPlace struct {
	label string
	rings [][][2]float64 // lon, lat; nil for a point
	point [2]float64
}

// placesOf decodes the parcels' geometries; parcels without one are left out.
func placesOf(parcels []traceability.Parcel) []mapPlace {
	var out []mapPlace
	for _, p := range parcels {
		label := p.Code
		if label == "" {
			label = p.Name
		}
		switch p.Location.Type {
		case "Polygon":
			var raw [][][]float64
			if json.Unmarshal(p.Location.Coordinates, &raw) != nil || len(raw) == 0 {
				continue
			}
			mp := mapPlace{label: label, point: [2]float64{p.Lon, p.Lat}}
			for _, ring := range raw {
				var r [][2]float64
				for _, pos := range ring {
					if len(pos) >= 2 {
						r = append(r, [2]float64{pos[0], pos[1]})
					}
				}
				mp.rings = append(mp.rings, r)
			}
			out = append(out, mp)
		case "Point":
			var pos []float64
			if json.Unmarshal(p.Location.Coordinates, &pos) != nil || len(pos) < 2 {
				continue
			}
			out = append(out, mapPlace{label: label, point: [2]float64{pos[0], pos[1]}})
		}
	}
	return out
}

const (
	metresPerDegreeLat = 110_574.0
	metresPerDegreeLon = 111_320.0 // at the equator, times cos(latitude)
)

// drawParcelMap draws the parcels in the box (x, y, w, h), in mm. It
// returns the number of places drawn.
func (d *doc) drawParcelMap(x, y, w, h float64, parcels []traceability.Parcel) int {
	pdf := d.pdf
	places := placesOf(parcels)
	pdf.SetDrawColor(150, 150, 150)
	pdf.SetLineWidth(0.2)
	pdf.Rect(x, y, w, h, "D")
	if len(places) == 0 {
		pdf.SetFont("Helvetica", "I", 8)
		pdf.SetXY(x, y+h/2-2)
		pdf.CellFormat(w, 4, d.tr("Aucune parcelle géolocalisée"), "", 0, "C", false, 0, "")
		return 0
	}
	minLon, minLat, maxLon, maxLat := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	extend := func(p [2]float64) {
		minLon, maxLon = math.Min(minLon, p[0]), math.Max(maxLon, p[0])
		minLat, maxLat = math.Min(minLat, p[1]), math.Max(maxLat, p[1])
	}
	for _, pl := range places {
		extend(pl.point)
		for _, r := range pl.rings {
			for _, p := range r {
				extend(p)
			}
		}
	}
	lon0, lat0 := (minLon+maxLon)/2, (minLat+maxLat)/2
	kx := metresPerDegreeLon * math.Cos(lat0*math.Pi/180)
	// The extent in metres, with a margin, at least 100 m across so a
	// single parcel is not drawn the size of the page.
	spanX := math.Max((maxLon-minLon)*kx*1.15, 100)
	spanY := math.Max((maxLat-minLat)*metresPerDegreeLat*1.15, 100)
	inner := 4.0
	scale := math.Min((w-2*inner)/spanX, (h-2*inner)/spanY) // mm per metre
	cx, cy := x+w/2, y+h/2
	project := func(p [2]float64) (float64, float64) {
		return cx + (p[0]-lon0)*kx*scale, cy - (p[1]-lat0)*metresPerDegreeLat*scale
	}
	pdf.ClipRect(x, y, w, h, false)
	pdf.SetFillColor(parcelFill[0], parcelFill[1], parcelFill[2])
	pdf.SetDrawColor(parcelOutline[0], parcelOutline[1], parcelOutline[2])
	pdf.SetLineWidth(0.3)
	for _, pl := range places {
		small := true
		if len(pl.rings) > 0 {
			minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
			for _, r := range pl.rings {
				for i, p := range r {
					px, py := project(p)
					minX, maxX, minY, maxY = math.Min(minX, px), math.Max(maxX, px), math.Min(minY, py), math.Max(maxY, py)
					if i == 0 {
						pdf.MoveTo(px, py)
					} else {
						pdf.LineTo(px, py)
					}
				}
				pdf.ClosePath()
			}
			pdf.DrawPath("DF*")
			small = maxX-minX < 1.5 && maxY-minY < 1.5
		}
		if small {
			px, py := project(pl.point)
			pdf.Circle(px, py, 1.1, "DF")
		}
	}
	pdf.SetFont("Helvetica", "", 6.5)
	pdf.SetTextColor(60, 30, 0)
	for _, pl := range places {
		px, py := project(pl.point)
		pdf.SetXY(px+1.5, py-1.5)
		pdf.CellFormat(40, 3, d.tr(pl.label), "", 0, "L", false, 0, "")
	}
	pdf.SetTextColor(0, 0, 0)
	pdf.ClipEnd()
	d.scaleBar(x+inner, y+h-inner-2, w/4, scale)
	d.northArrow(x+w-inner-3, y+inner+1)
	pdf.SetLineWidth(0.2)
	pdf.SetDrawColor(0, 0, 0)
	return len(places)
}

// scaleBar draws a bar of a round length (1, 2 or 5 × 10^k m) at most
// maxW mm long.
func (d *doc) scaleBar(x, y, maxW, mmPerMetre float64) {
	metres := maxW / mmPerMetre
	step := math.Pow(10, math.Floor(math.Log10(metres)))
	for _, m := range []float64{5, 2, 1} {
		if m*step <= metres {
			step *= m
			break
		}
	}
	bw := step * mmPerMetre
	pdf := d.pdf
	pdf.SetFillColor(0, 0, 0)
	pdf.SetDrawColor(0, 0, 0)
	pdf.Rect(x, y, bw, 1, "DF")
	label := fmt.Sprintf("%.0f m", step)
	if step >= 1000 {
		label = fmt.Sprintf("%.0f km", step/1000)
	}
	pdf.SetFont("Helvetica", "", 6.5)
	pdf.SetXY(x, y-3.2)
	pdf.CellFormat(bw, 3, label, "", 0, "L", false, 0, "")
}

func (d *doc) northArrow(x, y float64) {
	pdf := d.pdf
	pdf.SetFillColor(0, 0, 0)
	pdf.Polygon([]fpdf.PointType{{X: x, Y: y}, {X: x - 1.5, Y: y + 4}, {X: x + 1.5, Y: y + 4}}, "F")
	pdf.SetFont("Helvetica", "B", 6.5)
	pdf.SetXY(x-2, y+4.2)
	pdf.CellFormat(4, 3, "N", "", 0, "C", false, 0, "")
}
