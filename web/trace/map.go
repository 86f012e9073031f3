package trace

import (
	"fmt"
	"math"

	"github.com/terroir-coop/terroir/traceability"
)

// mapView is a small map of the origin parcels: one OpenStreetMap tile and
// a marker per parcel, drawn as SVG (no script; the tile is the only
// external request and the page works without it).
type mapView struct {
	TileURL string
	Markers []marker
	OSMLink string
}

type marker struct{ X, Y float64 }

// parcelMap picks the highest zoom (up to 14) at which every parcel falls in
// one 256-pixel tile.
func parcelMap(origin []traceability.TraceOrigin) *mapView {
	var pts [][2]float64
	for _, o := range origin {
		if o.Lon != 0 || o.Lat != 0 {
			pts = append(pts, [2]float64{o.Lon, o.Lat})
		}
	}
	if len(pts) == 0 {
		return nil
	}
	for z := 14; z >= 4; z-- {
		tx, ty := -1, -1
		fits := true
		var ms []marker
		for _, p := range pts {
			x, y := mercator(p[0], p[1], z)
			ix, iy := int(math.Floor(x)), int(math.Floor(y))
			if tx == -1 {
				tx, ty = ix, iy
			}
			if ix != tx || iy != ty {
				fits = false
				break
			}
			ms = append(ms, marker{X: math.Round((x-float64(ix))*2560) / 10, Y: math.Round((y-float64(iy))*2560) / 10})
		}
		if fits || z == 4 {
			lon, lat := pts[0][0], pts[0][1]
			return &mapView{
				TileURL: fmt.Sprintf("https://tile.openstreetmap.org/%d/%d/%d.png", z, tx, ty),
				Markers: ms,
				OSMLink: fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.5f&mlon=%.5f#map=%d/%.5f/%.5f", lat, lon, z, lat, lon),
			}
		}
	}
	return nil
}

// mercator returns tile coordinates (fractional) of a point at zoom z.
func mercator(lon, lat float64, z int) (x, y float64) {
	n := math.Exp2(float64(z))
	x = (lon + 180) / 360 * n
	r := lat * math.Pi / 180
	y = (1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n
	return x, y
}
