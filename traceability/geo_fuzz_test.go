package traceability

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// FuzzGeometry feeds arbitrary GeoJSON to the parcel outline code: Validate,
// AreaM2, Centroid and CheckDeclaredArea never panic; a valid geometry has
// a finite, non-negative area and a centroid on the globe; an invalid one
// is refused as a FieldError on "location".
func FuzzGeometry(f *testing.F) {
	for _, seed := range []string{
		`{"type":"Point","coordinates":[-7.92,30.53]}`,
		`{"type":"Point","coordinates":[-7.92,30.53,1050]}`,
		`{"type":"Polygon","coordinates":[[[-7.92,30.53],[-7.919,30.53],[-7.919,30.531],[-7.92,30.531],[-7.92,30.53]]]}`,
		`{"type":"Polygon","coordinates":[[[179.9995,0],[-179.9995,0],[-179.9995,0.001],[179.9995,0.001],[179.9995,0]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,1],[2,2],[0,0]]]}`,
		`{"type":"Polygon","coordinates":[[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]]}`,
		`{"type":"Polygon","coordinates":[]}`,
		`{"type":"Polygon","coordinates":[[]]}`,
		`{"type":"Point","coordinates":[1e308,1e308]}`,
		`{"type":"Point"}`,
		`{"type":"LineString","coordinates":[[0,0],[1,1]]}`,
		`{}`,
	} {
		f.Add([]byte(seed), int64(1000))
	}
	f.Fuzz(func(t *testing.T, raw []byte, declared int64) {
		var g Geometry
		if json.Unmarshal(raw, &g) != nil {
			return
		}
		err := g.Validate()
		area, measured := g.AreaM2()
		lon, lat := g.Centroid()
		areaErr := CheckDeclaredArea(declared, g)
		var fe *FieldError
		if areaErr != nil && (!errors.As(areaErr, &fe) || (fe.Field != "area_m2" && fe.Field != "location")) {
			t.Fatalf("CheckDeclaredArea(%d, %s): %v is not a FieldError on area_m2 or location", declared, raw, areaErr)
		}
		if err != nil {
			if !errors.As(err, &fe) || fe.Field != "location" {
				t.Fatalf("Validate(%s): %v is not a FieldError on location", raw, err)
			}
			if measured {
				t.Fatalf("AreaM2(%s) measured an invalid geometry", raw)
			}
			return
		}
		if g.Type == "Polygon" && !measured {
			t.Fatalf("AreaM2(%s) refused a valid polygon", raw)
		}
		if math.IsNaN(area) || math.IsInf(area, 0) || area < 0 {
			t.Fatalf("AreaM2(%s) = %v", raw, area)
		}
		if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
			t.Fatalf("Centroid(%s) = %v, %v", raw, lon, lat)
		}
	})
}
