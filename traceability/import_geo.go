package traceability

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/terroir-coop/terroir/internal/problem"
)

// Map files hold parcels: a GeoJSON FeatureCollection (what QGIS and most
// GIS tools export), a KML file (Google Earth, phone mapping apps) or a GPX
// file (GPS devices and tracking apps). Each feature, placemark, track,
// route or waypoint is one row; its properties (GeoJSON properties, KML
// ExtendedData, or "key: value" lines in a description) are its cells,
// matched by name like a spreadsheet's headers, and its shape is the
// parcel's location.
//
// A walked track becomes the parcel's outline when it comes back to where
// it started: within trackCloseM, the error of a phone's GPS, the loop is
// closed; further, or with fewer than three distinct points, the track is
// refused, since no area can be measured from it.

// trackCloseM is how near its start a walked track must end to be taken
// for a closed outline, in metres: phone GPS points are off by 3–10 m, so
// a walker back at the starting stone is often recorded 10–15 m away.
const trackCloseM = 20.0

// Morocco's extent, generously rounded (Tangier to Lagouira, the Atlantic
// to Figuig), in WGS 84 degrees. A cooperative of the network is Moroccan
// (its province is one of the Souss-Massa-Drâa's), so a parcel outside is a
// mistake: swapped coordinates, a point exported in another datum, or a
// wrong sign on the longitude.
const (
	moroccoMinLon, moroccoMaxLon = -17.3, -0.9
	moroccoMinLat, moroccoMaxLat = 20.7, 36.1
)

func inMorocco(lon, lat float64) bool {
	return lon >= moroccoMinLon && lon <= moroccoMaxLon && lat >= moroccoMinLat && lat <= moroccoMaxLat
}

// checkInMorocco refuses a location with a position outside Morocco, and
// says when swapping latitude and longitude would put it inside.
func checkInMorocco(g Geometry) *RowError {
	var positions [][]float64
	switch g.Type {
	case "Point":
		var p []float64
		if json.Unmarshal(g.Coordinates, &p) == nil {
			positions = [][]float64{p}
		}
	case "Polygon":
		var rings [][][]float64
		if json.Unmarshal(g.Coordinates, &rings) == nil {
			for _, r := range rings {
				positions = append(positions, r...)
			}
		}
	}
	for i, p := range positions {
		if len(p) < 2 || inMorocco(p[0], p[1]) {
			continue
		}
		if inMorocco(p[1], p[0]) {
			e := issue("location", "position %s (longitude %s, latitude %s) is outside Morocco: are latitude and longitude swapped?",
				strconv.Itoa(i+1), ftoa(p[0]), ftoa(p[1]))
			return &e
		}
		e := issue("location", "position %s (longitude %s, latitude %s) is outside Morocco", strconv.Itoa(i+1), ftoa(p[0]), ftoa(p[1]))
		return &e
	}
	return nil
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// trackToPolygon turns a walked track into a closed outline, or says why
// it cannot be one.
func trackToPolygon(points [][]float64) (*Geometry, *RowError) {
	var pts []lonLat
	for _, p := range points {
		if len(p) < 2 {
			continue
		}
		q := lonLat{p[0], p[1]}
		if len(pts) == 0 || pts[len(pts)-1] != q {
			pts = append(pts, q)
		}
	}
	distinct := map[lonLat]bool{}
	for _, q := range pts {
		distinct[q] = true
	}
	if len(distinct) < 3 {
		e := issue("location", "a track of %s points cannot outline a parcel: walk all around it", strconv.Itoa(len(points)))
		return nil, &e
	}
	first, last := pts[0], pts[len(pts)-1]
	plane := newLocalPlane(first.lon, first.lat)
	x, y := plane.project(last)
	if gap := math.Hypot(x, y); gap > trackCloseM {
		e := issue("location", "the track ends %s m from where it starts: it does not outline a closed parcel (walk back to the starting point)",
			strconv.Itoa(int(math.Round(gap))))
		return nil, &e
	}
	if first != last {
		pts = append(pts, first)
	} else if len(pts) < 4 {
		e := issue("location", "a track of %s points cannot outline a parcel: walk all around it", strconv.Itoa(len(points)))
		return nil, &e
	}
	ring := make([][]float64, len(pts))
	for i, q := range pts {
		ring[i] = []float64{q.lon, q.lat}
	}
	raw, _ := json.Marshal([][][]float64{ring})
	return &Geometry{Type: "Polygon", Coordinates: raw}, nil
}

// geoRow collects one feature's properties in the order they come.
type geoRow struct {
	keys   []string
	values map[string]string
}

func (g *geoRow) set(k, v string) {
	k = strings.TrimSpace(k)
	if k == "" {
		return
	}
	if g.values == nil {
		g.values = map[string]string{}
	}
	if _, ok := g.values[k]; !ok {
		g.keys = append(g.keys, k)
	}
	g.values[k] = strings.TrimSpace(v)
}

// describe reads "key: value" or "key = value" lines of a description
// into properties; a description without such lines is kept whole.
func (g *geoRow) describe(desc string) {
	desc = strings.TrimSpace(desc)
	if desc == "" {
		return
	}
	found := false
	for _, line := range strings.FieldsFunc(desc, func(r rune) bool { return r == '\n' || r == ';' }) {
		if i := strings.IndexAny(line, ":="); i > 0 {
			g.set(line[:i], line[i+1:])
			found = true
		}
	}
	if !found {
		g.set("description", desc)
	}
}

// geoTable lays features out as a table: the header is every property name
// in the order first seen.
func geoTable(label string, rows []geoRow, shapes []*Geometry, errs []*RowError) importTable {
	t := importTable{rowLabel: label}
	seen := map[string]bool{}
	for _, r := range rows {
		for _, k := range r.keys {
			if !seen[k] {
				seen[k] = true
				t.header = append(t.header, k)
			}
		}
	}
	for i, r := range rows {
		cells := make([]string, len(t.header))
		for j, k := range t.header {
			cells[j] = r.values[k]
		}
		t.rows = append(t.rows, tableRow{number: i + 1, cells: cells, shape: shapes[i], shapeErr: errs[i]})
	}
	return t
}

// readGeoJSON reads a FeatureCollection (or one Feature) in WGS 84.
func readGeoJSON(text string, o importOptions) (importTable, error) {
	var doc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
		CRS      *struct {
			Properties struct {
				Name string `json:"name"`
			} `json:"properties"`
		} `json:"crs"`
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return importTable{}, problem.Field("file", "is not valid GeoJSON: %s", jsonProblem(err))
	}
	switch doc.Type {
	case "FeatureCollection":
	case "Feature":
		doc.Features = []json.RawMessage{json.RawMessage(text)}
	default:
		return importTable{}, problem.Field("file", "is JSON but not a GeoJSON FeatureCollection of parcels")
	}
	if doc.CRS != nil {
		name := doc.CRS.Properties.Name
		if !strings.Contains(name, "CRS84") && !strings.HasSuffix(name, "4326") {
			return importTable{}, problem.Field("file", "uses the coordinate system %s: export it in WGS 84 (EPSG:4326)", name)
		}
	}
	if len(doc.Features) > o.maxRows {
		return importTable{}, problem.Field("file", "has more than %d rows: split it into smaller files", o.maxRows)
	}
	rows := make([]geoRow, len(doc.Features))
	shapes := make([]*Geometry, len(doc.Features))
	errs := make([]*RowError, len(doc.Features))
	for i, raw := range doc.Features {
		var f struct {
			Type       string          `json:"type"`
			Geometry   json.RawMessage `json:"geometry"`
			Properties json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(raw, &f); err != nil || f.Type != "Feature" {
			e := issue("", "is not a GeoJSON Feature")
			errs[i] = &e
			continue
		}
		if err := rows[i].readProperties(f.Properties); err != nil {
			e := issue("", "its properties are not a JSON object")
			errs[i] = &e
		}
		shapes[i], errs[i] = geoJSONShape(f.Geometry, errs[i])
	}
	return geoTable("feature", rows, shapes, errs), nil
}

// readProperties keeps a Feature's properties in their order, as text.
func (g *geoRow) readProperties(raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("not an object")
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var v any
		if err := d.Decode(&v); err != nil {
			return err
		}
		switch x := v.(type) {
		case nil:
			g.set(key, "")
		case string:
			g.set(key, x)
		case json.Number:
			g.set(key, x.String())
		case bool:
			g.set(key, strconv.FormatBool(x))
		default:
			b, _ := json.Marshal(x)
			g.set(key, string(b))
		}
	}
	return nil
}

// geoJSONShape turns a feature's geometry into a parcel location: a Point or
// Polygon as it is, a MultiPolygon of one polygon as that polygon, a
// LineString as a walked track.
func geoJSONShape(raw json.RawMessage, prior *RowError) (*Geometry, *RowError) {
	if prior != nil {
		return nil, prior
	}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var g Geometry
	if err := json.Unmarshal(raw, &g); err != nil {
		e := issue("location", "the geometry is not valid GeoJSON")
		return nil, &e
	}
	switch g.Type {
	case "Point", "Polygon":
		return &g, nil
	case "MultiPolygon":
		var polys []json.RawMessage
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil {
			e := issue("location", "the geometry is not valid GeoJSON")
			return nil, &e
		}
		if len(polys) != 1 {
			e := issue("location", "has %s polygons: a parcel is one outline, so give each polygon its own feature", strconv.Itoa(len(polys)))
			return nil, &e
		}
		return &Geometry{Type: "Polygon", Coordinates: polys[0]}, nil
	case "LineString":
		var pts [][]float64
		if err := json.Unmarshal(g.Coordinates, &pts); err != nil {
			e := issue("location", "the geometry is not valid GeoJSON")
			return nil, &e
		}
		return trackToPolygon(pts)
	}
	e := issue("location", "a %s cannot locate a parcel: use a Point or a Polygon", g.Type)
	return nil, &e
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	return "unexpected content"
}

// KML: Placemarks anywhere in the document (Folders nest them).
type kmlPlacemark struct {
	Name        string `xml:"name"`
	Description string `xml:"description"`
	Data        []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value"`
	} `xml:"ExtendedData>Data"`
	SimpleData []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:",chardata"`
	} `xml:"ExtendedData>SchemaData>SimpleData"`
	kmlGeometry
	Multi *kmlGeometry `xml:"MultiGeometry"`
}

type kmlGeometry struct {
	Points []struct {
		Coordinates string `xml:"coordinates"`
	} `xml:"Point"`
	Lines []struct {
		Coordinates string `xml:"coordinates"`
	} `xml:"LineString"`
	Rings []struct {
		Coordinates string `xml:"coordinates"`
	} `xml:"LinearRing"`
	Polygons []struct {
		Outer string   `xml:"outerBoundaryIs>LinearRing>coordinates"`
		Inner []string `xml:"innerBoundaryIs>LinearRing>coordinates"`
	} `xml:"Polygon"`
}

// kmlCoordinates reads "lon,lat[,alt] lon,lat[,alt] …".
func kmlCoordinates(s string) ([][]float64, bool) {
	var out [][]float64
	for _, tuple := range strings.Fields(s) {
		parts := strings.Split(tuple, ",")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, false
		}
		lon, err1 := strconv.ParseFloat(parts[0], 64)
		lat, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		out = append(out, []float64{lon, lat})
	}
	return out, len(out) > 0
}

func (k kmlGeometry) count() int {
	return len(k.Points) + len(k.Lines) + len(k.Rings) + len(k.Polygons)
}

func (k kmlGeometry) shape() (*Geometry, *RowError) {
	bad := func() (*Geometry, *RowError) {
		e := issue("location", "the coordinates are not longitude,latitude numbers")
		return nil, &e
	}
	switch {
	case k.count() == 0:
		return nil, nil
	case k.count() > 1:
		e := issue("location", "has %s shapes: a parcel is one outline, so give each its own placemark", strconv.Itoa(k.count()))
		return nil, &e
	case len(k.Points) == 1:
		pts, ok := kmlCoordinates(k.Points[0].Coordinates)
		if !ok || len(pts) != 1 {
			return bad()
		}
		raw, _ := json.Marshal(pts[0])
		return &Geometry{Type: "Point", Coordinates: raw}, nil
	case len(k.Lines) == 1:
		pts, ok := kmlCoordinates(k.Lines[0].Coordinates)
		if !ok {
			return bad()
		}
		return trackToPolygon(pts)
	case len(k.Rings) == 1:
		ring, ok := kmlCoordinates(k.Rings[0].Coordinates)
		if !ok {
			return bad()
		}
		raw, _ := json.Marshal([][][]float64{ring})
		return &Geometry{Type: "Polygon", Coordinates: raw}, nil
	}
	p := k.Polygons[0]
	outer, ok := kmlCoordinates(p.Outer)
	if !ok {
		return bad()
	}
	rings := [][][]float64{outer}
	for _, in := range p.Inner {
		ring, ok := kmlCoordinates(in)
		if !ok {
			return bad()
		}
		rings = append(rings, ring)
	}
	raw, _ := json.Marshal(rings)
	return &Geometry{Type: "Polygon", Coordinates: raw}, nil
}

func readKML(text string, o importOptions) (importTable, error) {
	d := xml.NewDecoder(strings.NewReader(text))
	var (
		rows   []geoRow
		shapes []*Geometry
		errs   []*RowError
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return importTable{}, problem.Field("file", "is not valid KML: %s", "the XML is malformed")
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Placemark" {
			continue
		}
		if len(rows) >= o.maxRows {
			return importTable{}, problem.Field("file", "has more than %d rows: split it into smaller files", o.maxRows)
		}
		var pm kmlPlacemark
		if err := d.DecodeElement(&pm, &se); err != nil {
			return importTable{}, problem.Field("file", "is not valid KML: %s", "the XML is malformed")
		}
		var row geoRow
		row.set("name", pm.Name)
		for _, x := range pm.Data {
			row.set(x.Name, x.Value)
		}
		for _, x := range pm.SimpleData {
			row.set(x.Name, x.Value)
		}
		if !strings.Contains(pm.Description, "<") { // an HTML balloon says nothing we can read
			row.describe(pm.Description)
		}
		geom := pm.kmlGeometry
		if pm.Multi != nil {
			if geom.count() == 0 {
				geom = *pm.Multi
			} else {
				geom.Polygons = append(geom.Polygons, pm.Multi.Polygons...)
			}
		}
		shape, e := geom.shape()
		rows, shapes, errs = append(rows, row), append(shapes, shape), append(errs, e)
	}
	return geoTable("placemark", rows, shapes, errs), nil
}

// GPX: tracks and routes are walked outlines, waypoints are points.
type gpxPoint struct {
	Lat string `xml:"lat,attr"`
	Lon string `xml:"lon,attr"`
}

type gpxPath struct {
	Name     string `xml:"name"`
	Desc     string `xml:"desc"`
	Cmt      string `xml:"cmt"`
	Segments [][]gpxPoint
}

func gpxPositions(pts []gpxPoint) ([][]float64, bool) {
	out := make([][]float64, 0, len(pts))
	for _, p := range pts {
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(p.Lat), 64)
		lon, err2 := strconv.ParseFloat(strings.TrimSpace(p.Lon), 64)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		out = append(out, []float64{lon, lat})
	}
	return out, true
}

func readGPX(text string, o importOptions) (importTable, error) {
	var doc struct {
		Waypoints []struct {
			gpxPoint
			Name string `xml:"name"`
			Desc string `xml:"desc"`
			Cmt  string `xml:"cmt"`
		} `xml:"wpt"`
		Routes []struct {
			Name   string     `xml:"name"`
			Desc   string     `xml:"desc"`
			Cmt    string     `xml:"cmt"`
			Points []gpxPoint `xml:"rtept"`
		} `xml:"rte"`
		Tracks []struct {
			Name     string `xml:"name"`
			Desc     string `xml:"desc"`
			Cmt      string `xml:"cmt"`
			Segments []struct {
				Points []gpxPoint `xml:"trkpt"`
			} `xml:"trkseg"`
		} `xml:"trk"`
	}
	if err := xml.Unmarshal([]byte(text), &doc); err != nil {
		return importTable{}, problem.Field("file", "is not valid GPX: %s", "the XML is malformed")
	}
	var paths []gpxPath
	for _, t := range doc.Tracks {
		p := gpxPath{Name: t.Name, Desc: t.Desc, Cmt: t.Cmt}
		for _, s := range t.Segments {
			p.Segments = append(p.Segments, s.Points)
		}
		paths = append(paths, p)
	}
	for _, r := range doc.Routes {
		paths = append(paths, gpxPath{Name: r.Name, Desc: r.Desc, Cmt: r.Cmt, Segments: [][]gpxPoint{r.Points}})
	}
	if len(paths)+len(doc.Waypoints) > o.maxRows {
		return importTable{}, problem.Field("file", "has more than %d rows: split it into smaller files", o.maxRows)
	}
	var (
		rows   []geoRow
		shapes []*Geometry
		errs   []*RowError
	)
	bad := func() *RowError {
		e := issue("location", "the points are not latitude and longitude numbers")
		return &e
	}
	for _, p := range paths {
		var row geoRow
		row.set("name", p.Name)
		row.describe(p.Desc)
		row.describe(p.Cmt)
		var all []gpxPoint
		for _, s := range p.Segments { // a paused recording splits a track: the segments are one walk
			all = append(all, s...)
		}
		var shape *Geometry
		var e *RowError
		if pts, ok := gpxPositions(all); !ok {
			e = bad()
		} else {
			shape, e = trackToPolygon(pts)
		}
		rows, shapes, errs = append(rows, row), append(shapes, shape), append(errs, e)
	}
	for _, w := range doc.Waypoints {
		var row geoRow
		row.set("name", w.Name)
		row.describe(w.Desc)
		row.describe(w.Cmt)
		pts, ok := gpxPositions([]gpxPoint{w.gpxPoint})
		if !ok {
			rows, shapes, errs = append(rows, row), append(shapes, nil), append(errs, bad())
			continue
		}
		raw, _ := json.Marshal(pts[0])
		rows, shapes, errs = append(rows, row), append(shapes, &Geometry{Type: "Point", Coordinates: raw}), append(errs, nil)
	}
	label := "track"
	if len(paths) == 0 {
		label = "waypoint"
	}
	return geoTable(label, rows, shapes, errs), nil
}
