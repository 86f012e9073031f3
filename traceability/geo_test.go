package traceability

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// square returns a closed counter-clockwise ring of side `side` degrees whose
// south-west corner is (lon, lat).
func square(lon, lat, side float64) [][]float64 {
	return [][]float64{{lon, lat}, {lon + side, lat}, {lon + side, lat + side}, {lon, lat + side}, {lon, lat}}
}

func polygonOf(tb testing.TB, rings ...[][]float64) Geometry {
	tb.Helper()
	raw, err := json.Marshal(rings)
	if err != nil {
		tb.Fatal(err)
	}
	return Geometry{Type: "Polygon", Coordinates: raw}
}

func TestGeometryValidate(t *testing.T) {
	tests := []struct {
		name    string
		g       Geometry
		wantErr string // "" means valid
	}{
		{"point", Geometry{"Point", json.RawMessage(`[-7.92, 30.53]`)}, ""},
		{"point with altitude", Geometry{"Point", json.RawMessage(`[-7.92, 30.53, 1050]`)}, ""},
		{"point latitude out of range", Geometry{"Point", json.RawMessage(`[30.53, -97.92]`)}, "location: point latitude -97.92 is outside [-90, 90] (is it [longitude, latitude]?)"},
		{"point longitude out of range", Geometry{"Point", json.RawMessage(`[-187.9, 30.5]`)}, "location: point longitude -187.9 is outside [-180, 180]"},
		{"point one number", Geometry{"Point", json.RawMessage(`[-7.92]`)}, "location: point must be [longitude, latitude], got 1 numbers"},
		{"point strings", Geometry{"Point", json.RawMessage(`["-7.92", "30.53"]`)}, "location: point coordinates must be [longitude, latitude] numbers"},
		{"point NaN", Geometry{"Point", json.RawMessage(`[NaN, 30]`)}, "location: point coordinates must be [longitude, latitude] numbers"},
		{"point missing coordinates", Geometry{Type: "Point"}, "location: point coordinates must be [longitude, latitude] numbers"},
		{"polygon", polygonOf(t, square(-7.92, 30.53, 0.001)), ""},
		{"polygon with hole", polygonOf(t, square(-7.92, 30.53, 0.001), square(-7.9196, 30.5304, 0.0002)), ""},
		{"polygon not closed", polygonOf(t, square(-7.92, 30.53, 0.001)[:4]), "location: polygon ring 1 is not closed (its last position must repeat the first)"},
		{"polygon open ring", polygonOf(t, [][]float64{{-7.92, 30.53}, {-7.91, 30.53}, {-7.91, 30.54}, {-7.92, 30.54}}), "location: polygon ring 1 is not closed (its last position must repeat the first)"},
		{"hole not closed", polygonOf(t, square(-7.92, 30.53, 0.001), square(-7.9196, 30.5304, 0.0002)[:4]), "location: polygon ring 2 is not closed (its last position must repeat the first)"},
		{"too few positions", polygonOf(t, [][]float64{{-7.92, 30.53}, {-7.91, 30.53}, {-7.92, 30.53}}), "location: polygon ring 1 has 3 positions, needs at least 4 (a closed triangle)"},
		{"bad position", polygonOf(t, [][]float64{{-7.92, 30.53}, {-7.91, 30.53}, {-7.91, 91}, {-7.92, 30.53}}), "location: polygon ring 1 position 3 latitude 91 is outside [-90, 90] (is it [longitude, latitude]?)"},
		{"collinear", polygonOf(t, [][]float64{{-7.92, 30.53}, {-7.91, 30.53}, {-7.90, 30.53}, {-7.92, 30.53}}), "location: polygon ring 1 has no area (its positions are on one line)"},
		{"no ring", Geometry{"Polygon", json.RawMessage(`[]`)}, "location: polygon has no ring"},
		{"polygon as point", Geometry{"Polygon", json.RawMessage(`[-7.92, 30.53]`)}, "location: polygon coordinates must be a list of rings of [longitude, latitude] numbers"},
		{"multipolygon", Geometry{"MultiPolygon", json.RawMessage(`[]`)}, `location: type must be Point or Polygon, got "MultiPolygon"`},
		{"lower-case type", Geometry{"point", json.RawMessage(`[-7.92, 30.53]`)}, `location: type must be Point or Polygon, got "point"`},
		{"no type", Geometry{}, "location: type is required (Point or Polygon)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.g.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "location" {
				t.Fatalf("Validate() = %v, want *FieldError on location", err)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("Validate() = %q\nwant        %q", err, tt.wantErr)
			}
		})
	}
}

func TestGeometryValidateTooManyPositions(t *testing.T) {
	ring := make([][]float64, 0, maxGeometryPositions+1)
	for i := range maxGeometryPositions {
		a := 2 * math.Pi * float64(i) / maxGeometryPositions
		ring = append(ring, []float64{-7.92 + 0.001*math.Cos(a), 30.53 + 0.001*math.Sin(a)})
	}
	ring = append(ring, ring[0])
	err := polygonOf(t, ring).Validate()
	if err == nil || !strings.Contains(err.Error(), "more than 10000 positions") {
		t.Errorf("Validate() = %v, want a too-many-positions error", err)
	}
}

func TestGeometryAreaM2(t *testing.T) {
	// Reference lengths of one degree on WGS 84 at 30°N, from the standard
	// tables: 110 852 m of latitude, 96 486 m of longitude.
	const refSquare30 = 110.852 * 96.486 // m² of a 0.001° square centred on 30°N
	reversed := square(-7.9205, 29.9995, 0.001)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	tests := []struct {
		name   string
		g      Geometry
		want   float64
		relTol float64
		ok     bool
	}{
		{"0.001° square at 30°N", polygonOf(t, square(-7.9205, 29.9995, 0.001)), refSquare30, 5e-4, true},
		{"clockwise ring", polygonOf(t, reversed), refSquare30, 5e-4, true},
		{"hole of a quarter side", polygonOf(t, square(-7.9205, 29.9995, 0.001), square(-7.92, 30.0, 0.00025)), refSquare30 * (1 - 1.0/16), 5e-4, true},
		// 1° of longitude on the equator is 111 319 m, of latitude 110 574 m.
		{"across the antimeridian", polygonOf(t, [][]float64{{179.9995, -0.0005}, {-179.9995, -0.0005}, {-179.9995, 0.0005}, {179.9995, 0.0005}, {179.9995, -0.0005}}), 111.319 * 110.574, 5e-4, true},
		{"point", Geometry{"Point", json.RawMessage(`[-7.92, 30.53]`)}, 0, 0, false},
		{"invalid polygon", Geometry{"Polygon", json.RawMessage(`[]`)}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.g.AreaM2()
			if ok != tt.ok {
				t.Fatalf("AreaM2() ok = %v, want %v", ok, tt.ok)
			}
			if ok && math.Abs(got-tt.want) > tt.relTol*tt.want {
				t.Errorf("AreaM2() = %.1f m², want %.1f m² ± %.2g%%", got, tt.want, tt.relTol*100)
			}
		})
	}
}

func TestGeometryCentroid(t *testing.T) {
	tests := []struct {
		name             string
		g                Geometry
		wantLon, wantLat float64
	}{
		{"point", Geometry{"Point", json.RawMessage(`[-7.92, 30.53]`)}, -7.92, 30.53},
		{"square", polygonOf(t, square(-7.92, 30.53, 0.001)), -7.9195, 30.5305},
		// Outer 2×2 square minus a 1×1 hole in its south-west corner: the
		// remaining L has its centroid at 7/6 of a unit from each edge.
		{"square with corner hole", polygonOf(t, square(-7.92, 30.53, 0.002), square(-7.92, 30.53, 0.001)), -7.92 + 0.002*7/12, 30.53 + 0.002*7/12},
		{"across the antimeridian", polygonOf(t, [][]float64{{179.999, 0}, {-179.999, 0}, {-179.999, 0.002}, {179.999, 0.002}, {179.999, 0}}), 180, 0.001},
		{"invalid", Geometry{"Polygon", json.RawMessage(`[[]]`)}, 0, 0},
		{"no type", Geometry{}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lon, lat := tt.g.Centroid()
			// ±180 are the same meridian.
			dlon := math.Abs(math.Remainder(lon-tt.wantLon, 360))
			if dlon > 1e-6 || math.Abs(lat-tt.wantLat) > 1e-6 {
				t.Errorf("Centroid() = (%.7f, %.7f), want (%.7f, %.7f)", lon, lat, tt.wantLon, tt.wantLat)
			}
		})
	}
}

func TestCheckDeclaredArea(t *testing.T) {
	field := polygonOf(t, square(-7.9205, 29.9995, 0.001)) // about 10 696 m²
	plot := polygonOf(t, square(-7.92, 30.53, 0.0002))     // about 410 m², 81 m around
	tests := []struct {
		name     string
		declared int64
		g        Geometry
		wantErr  string // substring; "" means accepted
	}{
		{"matches", 10_700, field, ""},
		{"24% below", 8_150, field, ""},
		{"24% above", 13_250, field, ""},
		{"27% above", 13_600, field, "area_m2: declared 13600 m² but the outline measures about 10696 m²"},
		{"hectares typed as m²", 1, field, "area_m2: declared 1 m²"},
		{"ares typed as m²", 107, field, "area_m2: declared 107 m²"},
		{"small plot within GPS band", 800, plot, ""},
		{"small plot beyond GPS band", 900, plot, "area_m2: declared 900 m²"},
		{"point cannot be measured", 5_000, Geometry{"Point", json.RawMessage(`[-7.92, 30.53]`)}, ""},
		{"no location", 5_000, Geometry{}, ""},
		{"zero", 0, field, "area_m2: must be a positive number of square metres, got 0"},
		{"invalid outline", 5_000, Geometry{"Polygon", json.RawMessage(`[]`)}, "location: polygon has no ring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDeclaredArea(tt.declared, tt.g)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckDeclaredArea() = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckDeclaredArea() = %v, want *FieldError containing %q", err, tt.wantErr)
			}
		})
	}
}
