package trace

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
)

// The origin map is an inline SVG drawn from the parcels' own geometry, as
// the evidence file's map is (web/documents/parcelmap.go): a walked outline
// is a polygon, a parcel recorded as a point (or too small to see at the
// map's scale) is a dot, and parcels at one spot share one dot with their
// count. Coordinates are projected on a local plane around the parcels'
// centre (equirectangular, metres east scaled by the cosine of the
// latitude), exact to a fraction of a percent at a cooperative's scale.
// The page asks nothing of another host: no tile, no script, no font. Only
// when an operator configures a tile server (web.Config.MapTiles) is a
// background of tiles drawn under the parcels.

// The map's fixed viewBox, in SVG units (CSS pixels at full width).
const (
	mapW, mapH = 320.0, 200.0
	mapMargin  = 22.0  // keeps shapes clear of the scale bar and the arrow
	mapMinSpan = 100.0 // metres: a lone small parcel is not drawn page-sized
	pinMerge   = 8.0   // dots closer than this (SVG units) are one dot
	maxTiles   = 12    // bounds a configured tile background
	// minVertexGap (SVG units) drops the corners of an outline that are
	// closer than this to the one before: a phone's walk of thousands of
	// points is drawn with the few hundred the map can show.
	minVertexGap = 1.0
	maxLabels    = 6 // more names than this would cover the map: titles only
)

const (
	metresPerDegreeLat = 110_574.0
	metresPerDegreeLon = 111_320.0 // at the equator, times cos(latitude)
)

type mapView struct {
	W, H   float64
	NorthX float64 // where the north arrow stands, near the top-right corner
	Label  string  // the accessible name: what the map shows, in words
	Shapes []mapShape
	Pins   []mapPin
	Scale  mapScale
	Tiles  []mapTile
	// OpenLink is a plain link the visitor may follow to see the place on
	// OpenStreetMap; nothing is fetched from there unless it is clicked.
	OpenLink string
}

// mapShape is one parcel's outline: Points for a single ring (a
// <polygon>), Path for a polygon with holes or several parts (a <path>,
// even-odd so a hole stays a hole).
type mapShape struct {
	Name   string
	Points string
	Path   string
	Tag    *mapLabel

	cx, top, bottom float64 // where its label goes
}

type mapPin struct {
	X, Y  float64
	Count int
	Names string
	Tag   *mapLabel
}

// mapLabel is a place's name written on the map, centred at X, Y.
type mapLabel struct {
	X, Y float64
	Text string
}

// labelAt places a name centred under (or, near the bottom, above) a box,
// kept inside the map.
func labelAt(text string, cx, top, bottom float64) *mapLabel {
	y := bottom + 13
	if y > mapH-mapMargin {
		y = top - 5
	}
	return &mapLabel{X: round1(min(max(cx, 50), mapW-50)), Y: round1(min(max(y, 12), mapH-4)), Text: text}
}

type mapScale struct {
	X, Y, W float64
	Label   string
}

type mapTile struct {
	Href       string
	X, Y, W, H float64
}

type mapPlace struct {
	name  string
	polys [][][][2]float64 // polygons → rings → lon, lat; nil for a point
	point [2]float64
}

// placesOf gives one place per parcel (an origin lists a parcel once per
// harvest day), with its outline when it has one.
func placesOf(origin []traceability.TraceOrigin) []mapPlace {
	var out []mapPlace
	seen := map[string]bool{}
	for _, o := range origin {
		if seen[o.Parcel] {
			continue
		}
		seen[o.Parcel] = true
		pl := mapPlace{name: o.ParcelName, point: [2]float64{o.Lon, o.Lat}}
		if o.Outline != nil {
			pl.polys = polygonsOf(*o.Outline)
		}
		if pl.polys == nil && o.Lon == 0 && o.Lat == 0 {
			continue // no place recorded
		}
		out = append(out, pl)
	}
	return out
}

// polygonsOf decodes a GeoJSON Polygon or MultiPolygon; nil otherwise.
func polygonsOf(g traceability.Geometry) [][][][2]float64 {
	var multi [][][][]float64
	switch g.Type {
	case "Polygon":
		var one [][][]float64
		if json.Unmarshal(g.Coordinates, &one) != nil {
			return nil
		}
		multi = [][][][]float64{one}
	case "MultiPolygon":
		if json.Unmarshal(g.Coordinates, &multi) != nil {
			return nil
		}
	default:
		return nil
	}
	var out [][][][2]float64
	for _, poly := range multi {
		var rings [][][2]float64
		for _, ring := range poly {
			var r [][2]float64
			for _, pos := range ring {
				if len(pos) >= 2 {
					r = append(r, [2]float64{pos[0], pos[1]})
				}
			}
			if len(r) > 1 && r[0] == r[len(r)-1] {
				r = r[:len(r)-1] // SVG closes the ring itself
			}
			if len(r) >= 3 {
				rings = append(rings, r)
			}
		}
		if len(rings) > 0 {
			out = append(out, rings)
		}
	}
	return out
}

// parcelMap draws the origin parcels; nil when none has a place. tiles is
// the operator's tile URL template ({z}, {x}, {y}), empty for none.
func parcelMap(origin []traceability.TraceOrigin, l *i18n.Locale, tiles string) *mapView {
	places := placesOf(origin)
	if len(places) == 0 {
		return nil
	}
	minLon, minLat, maxLon, maxLat := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	extend := func(p [2]float64) {
		minLon, maxLon = math.Min(minLon, p[0]), math.Max(maxLon, p[0])
		minLat, maxLat = math.Min(minLat, p[1]), math.Max(maxLat, p[1])
	}
	for _, pl := range places {
		if pl.polys == nil {
			extend(pl.point)
		}
		for _, poly := range pl.polys {
			for _, r := range poly {
				for _, p := range r {
					extend(p)
				}
			}
		}
	}
	lon0, lat0 := (minLon+maxLon)/2, (minLat+maxLat)/2
	kx := metresPerDegreeLon * math.Cos(lat0*math.Pi/180)
	spanX := math.Max((maxLon-minLon)*kx, mapMinSpan)
	spanY := math.Max((maxLat-minLat)*metresPerDegreeLat, mapMinSpan)
	scale := math.Min((mapW-2*mapMargin)/spanX, (mapH-2*mapMargin)/spanY) // units per metre
	project := func(p [2]float64) (float64, float64) {
		return mapW/2 + (p[0]-lon0)*kx*scale, mapH/2 - (p[1]-lat0)*metresPerDegreeLat*scale
	}
	v := &mapView{W: mapW, H: mapH, NorthX: mapW - 14}
	var names []string
	for _, pl := range places {
		names = append(names, pl.name)
		if sh, ok := shapeOf(pl, project); ok {
			v.Shapes = append(v.Shapes, sh)
			continue
		}
		x, y := project(pl.point)
		v.addPin(round1(x), round1(y), pl.name, l.T("list_separator"))
	}
	if len(places) <= maxLabels {
		for i := range v.Shapes {
			sh := &v.Shapes[i]
			sh.Tag = labelAt(sh.Name, sh.cx, sh.top, sh.bottom)
		}
		for i := range v.Pins {
			p := &v.Pins[i]
			p.Tag = labelAt(p.Names, p.X, p.Y-9, p.Y+9)
		}
	}
	v.Scale = scaleBar(scale, l)
	v.Label = l.T("tr_map_label", len(places), strings.Join(names, l.T("list_separator")), v.Scale.Label)
	v.OpenLink = fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.5f&mlon=%.5f#map=15/%.5f/%.5f", lat0, lon0, lat0, lon0)
	if tiles != "" {
		v.Tiles = tileLayer(tiles, lon0, lat0, kx, scale)
	}
	return v
}

// shapeOf is a place's outline, unless it has none or it would be too small
// to see (then it is a dot).
func shapeOf(pl mapPlace, project func([2]float64) (float64, float64)) (mapShape, bool) {
	if pl.polys == nil {
		return mapShape{}, false
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	var rings []string
	for _, poly := range pl.polys {
		for _, r := range poly {
			var b strings.Builder
			lastX, lastY := math.Inf(1), math.Inf(1)
			for _, p := range r {
				x, y := project(p)
				minX, maxX, minY, maxY = math.Min(minX, x), math.Max(maxX, x), math.Min(minY, y), math.Max(maxY, y)
				if math.Abs(x-lastX)+math.Abs(y-lastY) < minVertexGap {
					continue // invisible at the map's scale: the page stays light
				}
				if b.Len() > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(num(x) + "," + num(y))
				lastX, lastY = x, y
			}
			rings = append(rings, b.String())
		}
	}
	if maxX-minX < 4 && maxY-minY < 4 {
		return mapShape{}, false
	}
	sh := mapShape{Name: pl.name, cx: (minX + maxX) / 2, top: minY, bottom: maxY}
	if len(rings) == 1 {
		sh.Points = rings[0]
		return sh, true
	}
	var d strings.Builder
	for _, r := range rings {
		d.WriteString("M" + r + "Z")
	}
	sh.Path = d.String()
	return sh, true
}

// addPin adds a dot, or counts the place on a dot already there.
func (v *mapView) addPin(x, y float64, name, sep string) {
	for i := range v.Pins {
		p := &v.Pins[i]
		if math.Hypot(p.X-x, p.Y-y) < pinMerge {
			p.Count++
			p.Names += sep + name
			return
		}
	}
	v.Pins = append(v.Pins, mapPin{X: x, Y: y, Count: 1, Names: name})
}

// scaleBar is a bar of a round length (1, 2 or 5 × 10^n metres) at most a
// quarter of the map wide, at its bottom-left corner.
func scaleBar(unitsPerMetre float64, l *i18n.Locale) mapScale {
	metres := roundDown125(mapW / 4 / unitsPerMetre)
	s := mapScale{X: 8, Y: mapH - 8, W: round1(metres * unitsPerMetre)}
	if metres >= 1000 {
		s.Label = l.T("tr_map_km", strconv.FormatFloat(metres/1000, 'f', -1, 64))
	} else {
		s.Label = l.T("tr_map_m", strconv.FormatFloat(metres, 'f', -1, 64))
	}
	return s
}

// roundDown125 is the largest 1, 2 or 5 × 10^n not above x (x > 0).
func roundDown125(x float64) float64 {
	step := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{5, 2, 1} {
		if m*step <= x*(1+1e-9) {
			return m * step
		}
	}
	return step
}

// tileLayer places the Web Mercator tiles that cover the map, at the zoom
// whose pixels are closest to the map's. At a map's extent Mercator and the
// local plane agree (both conformal), so each tile is placed by projecting
// its corners.
func tileLayer(template string, lon0, lat0, kx, scale float64) []mapTile {
	const earth = 40_075_016.686 // equator, m
	z := int(math.Round(math.Log2(earth * math.Cos(lat0*math.Pi/180) * scale / 256)))
	z = min(max(z, 0), 19)
	n := math.Exp2(float64(z))
	unproject := func(x, y float64) (lon, lat float64) {
		return lon0 + (x-mapW/2)/scale/kx, lat0 - (y-mapH/2)/scale/metresPerDegreeLat
	}
	tileX := func(lon float64) float64 { return (lon + 180) / 360 * n }
	tileY := func(lat float64) float64 {
		r := lat * math.Pi / 180
		return (1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n
	}
	lonOf := func(x float64) float64 { return x/n*360 - 180 }
	latOf := func(y float64) float64 { return math.Atan(math.Sinh(math.Pi*(1-2*y/n))) * 180 / math.Pi }
	project := func(lon, lat float64) (float64, float64) {
		return mapW/2 + (lon-lon0)*kx*scale, mapH/2 - (lat-lat0)*metresPerDegreeLat*scale
	}
	west, north := unproject(0, 0)
	east, south := unproject(mapW, mapH)
	x0, x1 := int(math.Floor(tileX(west))), int(math.Floor(tileX(east)))
	y0, y1 := int(math.Floor(tileY(north))), int(math.Floor(tileY(south)))
	var out []mapTile
	for ty := y0; ty <= y1; ty++ {
		for tx := x0; tx <= x1; tx++ {
			if len(out) == maxTiles || tx < 0 || ty < 0 || tx >= int(n) || ty >= int(n) {
				continue
			}
			ax, ay := project(lonOf(float64(tx)), latOf(float64(ty)))
			bx, by := project(lonOf(float64(tx+1)), latOf(float64(ty+1)))
			href := strings.NewReplacer("{z}", strconv.Itoa(z), "{x}", strconv.Itoa(tx), "{y}", strconv.Itoa(ty)).Replace(template)
			out = append(out, mapTile{Href: href, X: round1(ax), Y: round1(ay), W: round1(bx - ax), H: round1(by - ay)})
		}
	}
	return out
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func num(x float64) string { return strconv.FormatFloat(round1(x), 'f', -1, 64) }
