package web_test

import (
	"encoding/json"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web"
	"github.com/terroir-coop/terroir/web/webtest"
)

// mappedLot is a saffron lot from three parcels of the Siroua cooperative:
// Tamazirt recorded as a point, Ighil at the same spot (a point too), and
// Asif walked as a five-cornered outline 400 m east.
type mappedLot struct {
	code    string
	corners int // positions of Asif's outline, the closing one left out
}

func newMappedLot(t *testing.T, e *webtest.Env) mappedLot {
	t.Helper()
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	// A house shape: a 40 × 30 m rectangle with a 10 m gable, east of
	// Tamazirt; its declared area is its own.
	lon0, lat0 := -7.916, 30.53
	dLon := 1 / (111_320 * math.Cos(lat0*math.Pi/180))
	dLat := 1 / 110_574.0
	at := func(east, north float64) []float64 { return []float64{lon0 + east*dLon, lat0 + north*dLat} }
	ring := [][]float64{at(0, 0), at(40, 0), at(40, 30), at(20, 40), at(0, 30), at(0, 0)}
	coords, _ := json.Marshal([][][]float64{ring})
	area, ok := traceability.Geometry{Type: "Polygon", Coordinates: coords}.AreaM2()
	if !ok {
		t.Fatal("the outline has no area")
	}
	parcel := func(name string, location map[string]any, areaM2 int) string {
		var p map[string]any
		if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/parcels", f.manager, map[string]any{
			"name": name, "member": f.member, "commune": "Taliouine", "area_m2": areaM2, "crop": "saffron", "location": location,
		}, &p); st != 201 {
			t.Fatalf("parcel %s: %d %v", name, st, p)
		}
		return p["id"].(string)
	}
	asif := parcel("Asif", map[string]any{"type": "Polygon", "coordinates": [][][]float64{ring}}, int(math.Round(area)))
	ighil := parcel("Ighil", map[string]any{"type": "Point", "coordinates": []float64{-7.92, 30.53}}, 800)
	hs := []string{f.harvest(t, "2025-10-28", 400), f.harvest(t, "2025-11-02", 300)}
	for _, p := range []string{asif, ighil} {
		g := f
		g.parcel = p
		hs = append(hs, g.harvest(t, "2025-10-30", 200))
	}
	return mappedLot{code: f.lot(t, hs...).Code, corners: len(ring) - 1}
}

var (
	svgPolygon = regexp.MustCompile(`<polygon class="parcel" points="([^"]*)"><title>([^<]*)</title>`)
	svgPin     = regexp.MustCompile(`<g class="pin"><circle [^>]*/>(?:<text[^>]*>(\d+)</text>)?<title>([^<]*)</title>`)
	svgScale   = regexp.MustCompile(`<g class="scale"><path d="M[\d.]+ [\d.]+h([\d.]+)"/><text[^>]*>([^<]*)</text>`)
	fetchedURL = regexp.MustCompile(`<(?:img|image|script|link|source|iframe)\b[^>]*?\s(?:src|href|srcset)="([^"]*)"`)
)

// TestTraceMapIsDrawnFromTheParcels: the origin map is the parcels' own
// geometry — an outline is a polygon with as many corners as walked, two
// parcels at one spot are one dot counting 2 (not a pin per harvest day),
// the scale bar's length is a round number — and the page fetches nothing
// from another host (a link the visitor may click to open a map elsewhere
// is a plain <a>, fetched by nobody until clicked).
func TestTraceMapIsDrawnFromTheParcels(t *testing.T) {
	e := webtest.New(t)
	lot := newMappedLot(t, e)
	path := traceURL(t, e, lot.code, "")
	for _, lang := range []string{"fr", "en", "ar"} {
		st, body := getPage(t, e, path, lang)
		if st != 200 {
			t.Fatalf("%s: trace page %d", lang, st)
		}
		polys := svgPolygon.FindAllStringSubmatch(body, -1)
		if len(polys) != 1 || polys[0][2] != "Asif" || len(strings.Fields(polys[0][1])) != lot.corners {
			t.Errorf("%s: want Asif as one polygon of %d corners, got %q", lang, lot.corners, polys)
		}
		pins := svgPin.FindAllStringSubmatch(body, -1)
		if len(pins) != 1 || pins[0][1] != "2" || !strings.Contains(pins[0][2], "Tamazirt") || !strings.Contains(pins[0][2], "Ighil") {
			t.Errorf("%s: want one dot counting Tamazirt and Ighil, got %q", lang, pins)
		}
		sc := svgScale.FindStringSubmatch(body)
		if sc == nil {
			t.Fatalf("%s: no scale bar", lang)
		}
		unit := map[string]string{"fr": "(m|km)", "en": "(m|km)", "ar": "(م|كم)"}[lang]
		if !regexp.MustCompile(`^[125]0* ` + unit + `$`).MatchString(sc[2]) {
			t.Errorf("%s: scale bar label %q is not a round number", lang, sc[2])
		}
		if !strings.Contains(body, `aria-labelledby="map-title"`) || !strings.Contains(body, `class="north"`) {
			t.Errorf("%s: the map lacks its label or north arrow", lang)
		}
		for _, m := range fetchedURL.FindAllStringSubmatch(body, -1) {
			if u, err := url.Parse(m[1]); err != nil || u.Host != "" || strings.HasPrefix(m[1], "//") {
				t.Errorf("%s: the page fetches %q", lang, m[1])
			}
		}
		if strings.Contains(body, "tile.openstreetmap.org") {
			t.Errorf("%s: the page still names the OpenStreetMap tile server", lang)
		}
	}
	// The record is built once per lot with the outline: the public JSON
	// carries it for the parcel that has one, not for the points.
	var rec struct {
		Origin []struct {
			ParcelName string                 `json:"parcel_name"`
			Outline    *traceability.Geometry `json:"outline"`
		} `json:"origin"`
	}
	if st := e.JSON("GET", "/api/v1/trace/"+lot.code, "", nil, &rec); st != 200 {
		t.Fatalf("trace JSON: %d", st)
	}
	for _, o := range rec.Origin {
		if (o.ParcelName == "Asif") != (o.Outline != nil && o.Outline.Type == "Polygon") {
			t.Errorf("origin %s: outline %+v", o.ParcelName, o.Outline)
		}
	}
}

// TestTraceMapScaleBarsAreRound: the bar's length rounds down to 1, 2 or 5
// × 10^n metres at every zoom, from a garden to a valley.
func TestTraceMapScaleBarsAreRound(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	far := f
	var p map[string]any
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/parcels", f.manager, map[string]any{
		"name": "Tizgui", "member": f.member, "commune": "Taliouine", "area_m2": 900, "crop": "saffron",
		"location": map[string]any{"type": "Point", "coordinates": []float64{-7.80, 30.60}},
	}, &p); st != 201 {
		t.Fatalf("parcel: %d", st)
	}
	far.parcel = p["id"].(string)
	code := f.lot(t, f.harvest(t, "2025-10-28", 400), far.harvest(t, "2025-10-29", 400)).Code
	_, body := getPage(t, e, traceURL(t, e, code, ""), "fr")
	sc := svgScale.FindStringSubmatch(body)
	if sc == nil || !regexp.MustCompile(`^[125]0* km$`).MatchString(sc[2]) {
		t.Fatalf("two parcels 14 km apart: scale %q", sc)
	}
	if pins := svgPin.FindAllStringSubmatch(body, -1); len(pins) != 2 {
		t.Errorf("two parcels 14 km apart are %d dots", len(pins))
	}
}

// TestBrowserTraceMapFitsThePhone: the drawn map keeps the page within a
// 390 px phone in French and Arabic, and the map is as wide as its card.
func TestBrowserTraceMapFitsThePhone(t *testing.T) {
	e := webtest.New(t)
	lot := newMappedLot(t, e)
	u := e.URL(traceURL(t, e, lot.code, ""))
	ctx := newChrome(t)
	for _, lang := range []string{"fr", "ar"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(u+"&lang="+lang), chromedp.WaitVisible(chromedp.CSS(`#origin svg`))); err != nil {
			t.Fatalf("%s: open the trace page: %v", lang, err)
		}
		fitsThePhone(t, ctx)
		widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[document.querySelector('#origin svg').getBoundingClientRect().width,
			document.querySelector('#origin').clientWidth, document.querySelectorAll('#origin svg polygon').length]`))
		if err != nil {
			t.Fatal(err)
		}
		if widths[0] < widths[1]/2 || widths[0] > widths[1] || widths[2] != 1 {
			t.Errorf("%s: map %.0f px wide in a card of %.0f px, %.0f polygons", lang, widths[0], widths[1], widths[2])
		}
		screenshot(t, ctx, "trace-map-"+lang)
	}
}

// TestTraceMapOfAWalkedOutlineStaysLight: an outline walked with a phone
// has thousands of points; the map draws those its scale can show, and the
// page stays far under 100 KB.
func TestTraceMapOfAWalkedOutlineStaysLight(t *testing.T) {
	e := webtest.New(t)
	f := newCoop(t, e, "SIROUA", "saffron", 1000)
	const n = 4000
	lon0, lat0, radius := -7.916, 30.53, 60.0 // metres
	var ring [][]float64
	for i := 0; i <= n; i++ {
		a := 2 * math.Pi * float64(i%n) / n
		ring = append(ring, []float64{lon0 + radius*math.Cos(a)/(111_320*math.Cos(lat0*math.Pi/180)), lat0 + radius*math.Sin(a)/110_574})
	}
	coords, _ := json.Marshal([][][]float64{ring})
	area, _ := traceability.Geometry{Type: "Polygon", Coordinates: coords}.AreaM2()
	var p map[string]any
	if st := e.JSON("POST", "/api/v1/cooperatives/SIROUA/parcels", f.manager, map[string]any{
		"name": "Walked", "member": f.member, "commune": "Taliouine", "area_m2": int(math.Round(area)), "crop": "saffron",
		"location": map[string]any{"type": "Polygon", "coordinates": [][][]float64{ring}},
	}, &p); st != 201 {
		t.Fatalf("parcel: %d %v", st, p)
	}
	f.parcel = p["id"].(string)
	_, body := getPage(t, e, traceURL(t, e, f.lot(t, f.harvest(t, "2025-10-28", 400)).Code, ""), "ar")
	polys := svgPolygon.FindAllStringSubmatch(body, -1)
	if len(polys) != 1 {
		t.Fatalf("the walked parcel is %d polygons", len(polys))
	}
	if corners := len(strings.Fields(polys[0][1])); corners < 100 || corners >= n/4 {
		t.Errorf("a %d-point circle is drawn with %d corners", n, corners)
	}
	if len(body) > 30_000 {
		t.Errorf("the page is %d bytes", len(body))
	}
}

// TestTraceMapRedrawsAWalkedParcel: an import that replaces a parcel's
// point by the outline walked since shows on the cached trace page at once.
func TestTraceMapRedrawsAWalkedParcel(t *testing.T) {
	e := webtest.New(t)
	e.Cooperative("SIROUA", "saffron")
	manager := e.User("siroua@coop.ma", access.CoopManager, "SIROUA")
	if st, p := upload(t, e, manager, "kind=members", "adhérents.csv", []byte(frenchMembersCSV)); st != 201 {
		t.Fatalf("members: %d %+v", st, p)
	}
	if st, p := upload(t, e, manager, "kind=parcels", "parcelles.xlsx", parcelsWorkbook(t)); st != 201 {
		t.Fatalf("parcels: %d %+v", st, p)
	}
	var parcels []traceability.Parcel
	if st := e.JSON("GET", "/api/v1/cooperatives/SIROUA/parcels", manager, nil, &parcels); st != 200 {
		t.Fatalf("parcels: %d", st)
	}
	f := coopFixture{e: e, code: "SIROUA", manager: manager}
	for _, p := range parcels {
		if p.Code == "P-01" {
			f.parcel, f.member = p.ID, p.Member
		}
	}
	if f.parcel == "" || f.member == "" {
		t.Fatalf("no parcel P-01 in %+v", parcels)
	}
	path := traceURL(t, e, f.lot(t, f.harvest(t, "2025-10-28", 400)).Code, "")
	if _, body := getPage(t, e, path, "fr"); len(svgPin.FindAllString(body, -1)) != 1 || svgPolygon.MatchString(body) {
		t.Fatal("P-01 recorded as a point is not one dot")
	}
	if st, p := upload(t, e, manager, "kind=parcels", "parcelles.geojson", parcelOutlines(t)); st != 201 {
		t.Fatalf("outlines: %d %+v", st, p)
	}
	_, body := getPage(t, e, path, "fr")
	if polys := svgPolygon.FindAllStringSubmatch(body, -1); len(polys) != 1 || len(strings.Fields(polys[0][1])) != 4 {
		t.Errorf("P-01 walked since is not drawn as its 4-cornered outline: %q", polys)
	}
}

// TestTraceMapTilesOnlyFromTheOperatorsServer: without a tile server the
// map has no <image> and the Content-Security-Policy allows images from
// this host only; with one, its tiles lie under the parcels and its host
// (only) is allowed.
func TestTraceMapTilesOnlyFromTheOperatorsServer(t *testing.T) {
	for _, tiles := range []string{"", "https://tiles.coop.example/osm/{z}/{x}/{y}.png"} {
		e := webtest.NewWith(t, webtest.Options{MapTiles: tiles})
		lot := newMappedLot(t, e)
		resp, b := e.Do("GET", traceURL(t, e, lot.code, ""), "", nil)
		body, csp := string(b), resp.Header.Get("Content-Security-Policy")
		images := regexp.MustCompile(`<image href="([^"]*)" x="(-?[\d.]+)" y="(-?[\d.]+)" width="([\d.]+)" height="([\d.]+)"`).FindAllStringSubmatch(body, -1)
		imgSrc := regexp.MustCompile(`img-src ([^;]*);`).FindStringSubmatch(csp)
		if tiles == "" {
			if len(images) != 0 || imgSrc == nil || imgSrc[1] != "'self' data:" {
				t.Errorf("no tile server: %d images, CSP %q", len(images), csp)
			}
			continue
		}
		if imgSrc == nil || imgSrc[1] != "'self' data: https://tiles.coop.example" {
			t.Errorf("tile server: CSP %q", csp)
		}
		if len(images) == 0 || len(images) > 12 {
			t.Fatalf("tile server: %d tiles", len(images))
		}
		tile := regexp.MustCompile(`^https://tiles\.coop\.example/osm/(\d+)/(\d+)/(\d+)\.png$`)
		// The tiles cover the map, square (Mercator is conformal) and
		// about as fine as the map (a zoom whose tiles are 181–362 units).
		minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, im := range images {
			if !tile.MatchString(im[1]) {
				t.Errorf("tile %q", im[1])
			}
			var v [4]float64
			for i := range v {
				v[i], _ = strconv.ParseFloat(im[i+2], 64)
			}
			minX, minY, maxX, maxY = math.Min(minX, v[0]), math.Min(minY, v[1]), math.Max(maxX, v[0]+v[2]), math.Max(maxY, v[1]+v[3])
			if math.Abs(v[2]-v[3]) > 0.01*v[2]+0.2 || v[2] < 181 || v[2] > 362 {
				t.Errorf("tile %s is %.1f × %.1f", im[1], v[2], v[3])
			}
		}
		if minX > 0 || minY > 0 || maxX < 320 || maxY < 200 {
			t.Errorf("tiles cover %.1f,%.1f–%.1f,%.1f, not the map", minX, minY, maxX, maxY)
		}
	}
	if _, err := web.New(web.Config{MapTiles: "tiles.example/{z}/{x}.png"}, web.Deps{}); err == nil || !strings.Contains(err.Error(), "map tiles") {
		t.Errorf("a tile template without scheme or {y}: %v", err)
	}
}
