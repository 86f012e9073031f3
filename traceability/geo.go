package traceability

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/terroir-coop/terroir/internal/problem"
)

// Geometry is a parcel location as GeoJSON (RFC 7946): a Point or a Polygon,
// positions as [longitude, latitude] in WGS 84 degrees, optionally followed
// by an altitude that is accepted and ignored. Coordinates stay raw so the
// geometry is stored exactly as the cooperative sent it; Validate is the gate.
type Geometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// maxGeometryPositions bounds the work a single request can cause. A parcel
// walked with a phone has tens of points; ten thousand is generous.
const maxGeometryPositions = 10_000

// Validate reports whether g is a Point or Polygon that the platform can
// draw and measure. Errors are *FieldError on "location", naming the ring
// (1 is the outer ring, then the holes) and position (1-based) at fault.
func (g Geometry) Validate() error {
	switch g.Type {
	case "Point":
		_, err := g.point()
		return err
	case "Polygon":
		_, err := g.polygon()
		return err
	case "":
		return locationError("type is required (Point or Polygon)")
	}
	return locationError("type must be Point or Polygon, got %q", g.Type)
}

func locationError(format string, args ...any) *FieldError {
	return problem.Field("location", format, args...)
}

type lonLat struct{ lon, lat float64 }

func (g Geometry) point() (lonLat, error) {
	var pos []float64
	if err := json.Unmarshal(g.Coordinates, &pos); err != nil {
		return lonLat{}, locationError("point coordinates must be [longitude, latitude] numbers")
	}
	return checkPosition(pos, "point")
}

// polygon decodes and validates the rings; ring 0 is the outer boundary.
func (g Geometry) polygon() ([][]lonLat, error) {
	var raw [][][]float64
	if err := json.Unmarshal(g.Coordinates, &raw); err != nil {
		return nil, locationError("polygon coordinates must be a list of rings of [longitude, latitude] numbers")
	}
	if len(raw) == 0 {
		return nil, locationError("polygon has no ring")
	}
	total := 0
	rings := make([][]lonLat, len(raw))
	for r, ring := range raw {
		name := "polygon ring " + strconv.Itoa(r+1)
		total += len(ring)
		if total > maxGeometryPositions {
			return nil, locationError("polygon has more than %d positions", maxGeometryPositions)
		}
		if len(ring) < 4 {
			return nil, locationError("%s has %d positions, needs at least 4 (a closed triangle)", name, len(ring))
		}
		rings[r] = make([]lonLat, len(ring))
		for i, pos := range ring {
			p, err := checkPosition(pos, fmt.Sprintf("%s position %d", name, i+1))
			if err != nil {
				return nil, err
			}
			rings[r][i] = p
		}
		if rings[r][0] != rings[r][len(ring)-1] {
			return nil, locationError("%s is not closed (its last position must repeat the first)", name)
		}
	}
	if area, _ := planarRings(rings); area[0] == 0 {
		return nil, locationError("polygon ring 1 has no area (its positions are on one line)")
	}
	return rings, nil
}

func checkPosition(pos []float64, where string) (lonLat, error) {
	if len(pos) != 2 && len(pos) != 3 {
		return lonLat{}, locationError("%s must be [longitude, latitude], got %d numbers", where, len(pos))
	}
	lon, lat := pos[0], pos[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
		return lonLat{}, locationError("%s is not a finite number", where)
	}
	if lon < -180 || lon > 180 {
		return lonLat{}, locationError("%s longitude %g is outside [-180, 180]", where, lon)
	}
	if lat < -90 || lat > 90 {
		return lonLat{}, locationError("%s latitude %g is outside [-90, 90] (is it [longitude, latitude]?)", where, lat)
	}
	return lonLat{lon, lat}, nil
}

// localPlane is an equirectangular projection of the WGS 84 ellipsoid around
// a reference point, in metres. Near the reference, one radian of latitude is
// the meridional radius of curvature M and one radian of longitude is
// N·cos(lat0), N being the prime-vertical radius; so within a parcel the only
// error is the change of these radii across the parcel, which is second order
// in its extent: below 0.01 % for outlines a few kilometres across, far under
// the error of the outline itself (phone GPS: ±3–10 m per point). Outlines
// crossing the antimeridian work because longitudes are unwrapped around
// lon0; outlines near the poles would not, and no parcel is there.
type localPlane struct {
	lon0, lat0 float64 // degrees
	mPerRadLat float64
	mPerRadLon float64
}

func newLocalPlane(lon0, lat0 float64) localPlane {
	const a = 6378137.0         // WGS 84 semi-major axis, m
	const e2 = 6.69437999014e-3 // WGS 84 first eccentricity squared
	s := math.Sin(lat0 * math.Pi / 180)
	w := 1 - e2*s*s
	m := a * (1 - e2) / (w * math.Sqrt(w))
	n := a / math.Sqrt(w)
	return localPlane{lon0: lon0, lat0: lat0, mPerRadLat: m, mPerRadLon: n * math.Cos(lat0*math.Pi/180)}
}

func (p localPlane) project(q lonLat) (x, y float64) {
	dlon := math.Remainder(q.lon-p.lon0, 360)
	return dlon * math.Pi / 180 * p.mPerRadLon, (q.lat - p.lat0) * math.Pi / 180 * p.mPerRadLat
}

func (p localPlane) unproject(x, y float64) (lon, lat float64) {
	lon = math.Remainder(p.lon0+x/p.mPerRadLon*180/math.Pi, 360)
	return lon, p.lat0 + y/p.mPerRadLat*180/math.Pi
}

// ringMeasure holds the planar measures of one ring.
type ringMeasure struct {
	area      float64 // absolute, m²
	cx, cy    float64 // area centroid in the plane, m
	perimeter float64 // m
}

// planarRings projects rings around the outer ring's mean latitude and
// returns each ring's absolute area, plus the detailed measures.
func planarRings(rings [][]lonLat) ([]float64, []ringMeasure) {
	outer := rings[0]
	var latSum float64
	for _, q := range outer[:len(outer)-1] {
		latSum += q.lat
	}
	plane := newLocalPlane(outer[0].lon, latSum/float64(len(outer)-1))
	areas := make([]float64, len(rings))
	measures := make([]ringMeasure, len(rings))
	for r, ring := range rings {
		var twiceArea, mx, my, perim float64
		x0, y0 := plane.project(ring[0])
		for _, q := range ring[1:] {
			x1, y1 := plane.project(q)
			cross := x0*y1 - x1*y0
			twiceArea += cross
			mx += (x0 + x1) * cross
			my += (y0 + y1) * cross
			perim += math.Hypot(x1-x0, y1-y0)
			x0, y0 = x1, y1
		}
		m := ringMeasure{area: math.Abs(twiceArea) / 2, perimeter: perim}
		if twiceArea != 0 {
			m.cx, m.cy = mx/(3*twiceArea), my/(3*twiceArea)
		}
		areas[r], measures[r] = m.area, m
	}
	return areas, measures
}

// AreaM2 returns the area of a Polygon in square metres, holes subtracted,
// measured on the local plane described at localPlane. It returns false for a
// Point or an invalid geometry.
func (g Geometry) AreaM2() (float64, bool) {
	if g.Type != "Polygon" {
		return 0, false
	}
	rings, err := g.polygon()
	if err != nil {
		return 0, false
	}
	areas, _ := planarRings(rings)
	area := areas[0]
	for _, hole := range areas[1:] {
		area -= hole
	}
	return math.Max(area, 0), true
}

// Centroid returns where to put the parcel's marker on a map: the point
// itself, or the area centroid of a polygon (holes taken out). It returns
// (0, 0) for an invalid geometry; call Validate first.
func (g Geometry) Centroid() (lon, lat float64) {
	switch g.Type {
	case "Point":
		p, err := g.point()
		if err != nil {
			return 0, 0
		}
		return p.lon, p.lat
	case "Polygon":
		rings, err := g.polygon()
		if err != nil {
			return 0, 0
		}
		_, measures := planarRings(rings)
		outer := measures[0]
		area, mx, my := outer.area, outer.area*outer.cx, outer.area*outer.cy
		for _, h := range measures[1:] {
			area -= h.area
			mx -= h.area * h.cx
			my -= h.area * h.cy
		}
		if area <= 0 { // holes cover everything: fall back to the outer ring
			area, mx, my = outer.area, outer.area*outer.cx, outer.area*outer.cy
		}
		var latSum float64
		for _, q := range rings[0][:len(rings[0])-1] {
			latSum += q.lat
		}
		plane := newLocalPlane(rings[0][0].lon, latSum/float64(len(rings[0])-1))
		return plane.unproject(mx/area, my/area)
	}
	return 0, 0
}

// Declared parcel areas are checked against the drawn outline with a
// tolerance of 25 %, or of a 5 m band along the outline when that is larger.
// Why: the check exists to catch unit mistakes (ares or hectares typed as
// m², which are off by ×100 or ×10 000) and outlines drawn on the wrong
// field, not to audit surveying. Declared areas come from cadastre, from
// traditional measures or from memory, and outlines from phone GPS whose
// points are typically off by 3–10 m; on a 400 m² saffron plot that alone
// moves the area by more than 25 %, hence the band term for small parcels.
const (
	areaRelativeTolerance = 0.25
	areaOutlineBandM      = 5.0
)

// CheckDeclaredArea compares the declared area of a parcel with the area of
// its outline. A Point or an absent location (Type "") cannot be measured, so
// only the declared area's sign is checked. It returns a *FieldError on
// "area_m2" that states both numbers, or the outline's own *FieldError on
// "location" when the polygon is invalid.
func CheckDeclaredArea(declaredM2 int64, g Geometry) error {
	if declaredM2 <= 0 {
		return problem.Field("area_m2", "must be a positive number of square metres, got %d", declaredM2)
	}
	if g.Type != "Polygon" {
		return nil
	}
	rings, err := g.polygon()
	if err != nil {
		return err
	}
	computed, _ := g.AreaM2()
	_, measures := planarRings(rings)
	tolerance := math.Max(areaRelativeTolerance*computed, areaOutlineBandM*measures[0].perimeter)
	if math.Abs(float64(declaredM2)-computed) <= tolerance {
		return nil
	}
	return problem.Field("area_m2",
		"declared %d m² but the outline measures about %.0f m² (allowed difference %.0f m²); check the unit (1 ha = 10000 m²) or the outline",
		declaredM2, computed, tolerance)
}
