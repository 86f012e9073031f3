package traceability

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Parcels come from a register (CSV, XLSX: latitude and longitude columns
// locate each parcel by a point) or from a map file (GeoJSON, KML, GPX:
// points, outlines, walked tracks). A parcel is matched by its code, or by
// its name among its member's parcels; a map file whose features carry
// only names or codes — a GPS track named after the parcel — completes the
// parcels recorded as points with their outlines, the declared area then
// checked against the outline as the parcel form does.

func (r *importRun) planParcels(ctx context.Context) error {
	members, err := r.s.store.members(ctx, r.coop.Code, mongodb.Page{Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	parcels, err := r.s.store.parcels(ctx, r.coop.Code, mongodb.Page{Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	for _, p := range parcels {
		r.places.add(p.Commune)
	}
	for _, m := range members {
		r.places.add(m.Commune)
	}
	mrefs, prefs := memberRefs(members), parcelRefs(parcels)
	defaultCrop := ""
	if slices.Contains(Crops, r.coop.Kind) {
		defaultCrop = r.coop.Kind // a saffron cooperative's parcels grow saffron
	}
	geo := r.table.format == FormatGeoJSON || r.table.format == FormatKML || r.table.format == FormatGPX
	need := []string{"name", "member", "area_m2"}
	if !geo {
		need = append(need, "latitude", "longitude")
	}
	r.requireColumns(need, map[string]bool{"name": r.hasField("code")})
	areaUnit := r.areaColumnUnit()
	seen := map[string]int{}
	r.eachRow(func(rr *importRowRun) {
		code, name := rr.cell("code"), rr.cell("name")
		if name == "" {
			name = code
		}
		rr.set("code", code)
		rr.set("name", name)
		if err := validateRecordCode(code); err != nil {
			rr.fail(issueOf(err))
		}
		member := rr.member(mrefs)
		if member != nil {
			rr.set("member", member.ID)
			rr.set("member_name", member.Name)
		}
		commune := rr.place("commune")
		crop := ""
		if v := rr.cell("crop"); v != "" {
			var ok bool
			if crop, ok = parseCrop(v); !ok {
				rr.fail(issue("crop", "%q is not a crop: use one of %s", v, strings.Join(Crops, ", ")))
			}
		}
		area, areaGiven := rr.area(areaUnit)
		loc := rr.location()
		// Twice in the file: a re-import could not tell the rows apart.
		key := "code " + recordCode(code)
		if code == "" {
			key = "name " + foldText(name) + "|" + rr.cell("member")
		}
		if prev, ok := seen[key]; ok && name != "" {
			rr.fail(issue(map[bool]string{true: "code", false: "name"}[code != ""],
				"%s is also on "+r.table.rowLabel+" %s", cmpOrString(code, name), strconv.Itoa(prev)))
		} else if name != "" {
			seen[key] = rr.row.Row
		}
		if rr.failed() {
			return
		}
		match := rr.matchParcel(prefs, code, name, member)
		if rr.failed() {
			return
		}
		if match == nil {
			r.createParcel(rr, Parcel{Cooperative: r.coop.Code, Code: code, Name: name, Member: rr.row.Values["member"],
				Commune: cmpOrString(commune, r.coop.Commune), AreaM2: area, Crop: cmpOrString(crop, defaultCrop)}, areaGiven, loc)
			return
		}
		r.compareParcel(rr, match, Parcel{Code: code, Name: rr.cell("name"), Commune: commune, Crop: crop, AreaM2: area}, member, areaGiven, loc)
	})
	return nil
}

func cmpOrString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// areaColumnUnit is the unit of the area column's header, or "" after
// reporting once that a cell gives no unit while the header gives none:
// 1200 may be square metres or ares, and a wrong guess is off by 100.
func (r *importRun) areaColumnUnit() string {
	i, ok := r.fields["area_m2"]
	if !ok {
		return ""
	}
	if u := r.preview.Columns[i].Unit; u != "" {
		return u
	}
	for _, row := range r.table.rows {
		if v := row.value(i, "area_m2"); v != "" {
			if _, u := splitNumberUnit(v); canonicalUnit(u, "area") == "" {
				r.fileProblem(issue("area_m2", "the column %s does not say its unit: name it, for example, Superficie (m²) or Superficie (ha)", r.preview.Columns[i].Header))
				return ""
			}
		}
	}
	return ""
}

// area reads the declared area in square metres.
func (rr *importRowRun) area(headerUnit string) (int64, bool) {
	v := rr.cell("area_m2")
	if v == "" {
		return 0, false
	}
	number, u := splitNumberUnit(v)
	unit := headerUnit
	if u != "" {
		if unit = canonicalUnit(u, "area"); unit == "" {
			rr.fail(issue("area_m2", "%q is not an area: write it in m², a or ha", v))
			return 0, false
		}
	}
	if unit == "" {
		return 0, false // reported once for the column
	}
	d, ok := parseDecimal(number)
	if !ok {
		rr.fail(issue("area_m2", "%q is not a number", v))
		return 0, false
	}
	m2, ok := areaToM2(d, unit)
	if !ok || m2 <= 0 || m2 > 100_000_000 {
		rr.fail(issue("area_m2", "%q is not an area between 1 m² and 10 000 ha", v))
		return 0, false
	}
	rr.set("area_m2", strconv.FormatInt(m2, 10))
	return m2, true
}

// location reads the row's shape (map files) or its latitude and longitude
// columns, checked as the parcel form checks them and inside Morocco.
func (rr *importRowRun) location() *Geometry {
	g := rr.raw.shape
	if g == nil {
		lat, lon := rr.cell("latitude"), rr.cell("longitude")
		if lat == "" && lon == "" {
			return nil
		}
		if lat == "" || lon == "" {
			field := map[bool]string{true: "latitude", false: "longitude"}[lat == ""]
			rr.fail(issue(field, "is required with the %s", map[bool]string{true: "longitude", false: "latitude"}[lat == ""]))
			return nil
		}
		la, ok1 := parseDecimal(lat)
		lo, ok2 := parseDecimal(lon)
		if !ok1 {
			rr.fail(issue("latitude", "%q is not a number of degrees", lat))
		}
		if !ok2 {
			rr.fail(issue("longitude", "%q is not a number of degrees", lon))
		}
		if !ok1 || !ok2 {
			return nil
		}
		fla, _ := la.Float64()
		flo, _ := lo.Float64()
		raw, _ := json.Marshal([]float64{flo, fla})
		g = &Geometry{Type: "Point", Coordinates: raw}
	}
	if err := g.Validate(); err != nil {
		rr.fail(issueOf(err))
		return nil
	}
	if e := checkInMorocco(*g); e != nil {
		rr.fail(*e)
		return nil
	}
	rr.set("location", g.Type)
	if a, ok := g.AreaM2(); ok {
		rr.set("outline_area_m2", strconv.FormatInt(int64(math.Round(a)), 10))
	}
	return g
}

// matchParcel finds the recorded parcel a row names: by code; or by name,
// among the member's parcels when the row names the member; a name may
// also be a recorded parcel's code (a GPS track named "P-12").
func (rr *importRowRun) matchParcel(prefs refIndex[Parcel], code, name string, member *Member) *Parcel {
	ofMember := func(ps []*Parcel) []*Parcel {
		if member == nil {
			return ps
		}
		var out []*Parcel
		for _, p := range ps {
			if p.Member == member.ID {
				out = append(out, p)
			}
		}
		return out
	}
	if code != "" {
		if p, ok := prefs.byCode[recordCode(code)]; ok {
			return p
		}
		// A code new to the records completes the one uncoded parcel of
		// that name.
		var uncoded []*Parcel
		for _, p := range ofMember(prefs.byName[foldText(rr.cell("name"))]) {
			if p.Code == "" {
				uncoded = append(uncoded, p)
			}
		}
		if len(uncoded) == 1 && rr.cell("name") != "" {
			return uncoded[0]
		}
		return nil
	}
	found := ofMember(prefs.find(name))
	switch len(found) {
	case 0:
		return nil
	case 1:
		return found[0]
	}
	rr.fail(issue("name", "%s names %s parcels: give the parcel's code, or its member", name, strconv.Itoa(len(found))))
	return nil
}

// createParcel checks a new parcel as AddParcel does and schedules it.
func (r *importRun) createParcel(rr *importRowRun, p Parcel, areaGiven bool, loc *Geometry) {
	if loc != nil {
		p.Location = *loc
		if a, ok := loc.AreaM2(); ok && !areaGiven {
			p.AreaM2 = int64(math.Round(a)) // the outline measures it
			rr.set("area_m2", strconv.FormatInt(p.AreaM2, 10))
			rr.set("area_from", "outline")
		}
	}
	for _, f := range []struct {
		field string
		v     string
	}{{"name", p.Name}, {"member", p.Member}, {"commune", p.Commune}, {"crop", p.Crop}} {
		if f.v == "" {
			rr.fail(missingForNew(r, f.field))
		}
	}
	if p.AreaM2 == 0 && !rr.failed() {
		rr.fail(missingForNew(r, "area_m2"))
	}
	if loc == nil && !rr.failed() {
		rr.fail(issue("location", "is required for a new parcel: give its latitude and longitude, or import its outline from a map file"))
	}
	if rr.failed() {
		return
	}
	rr.set("commune", p.Commune)
	rr.set("crop", p.Crop)
	if err := p.validate(); err != nil {
		rr.fail(issueOf(err))
		return
	}
	raw, err := json.Marshal(p.Location)
	if err != nil {
		rr.fail(issue("location", "is not valid GeoJSON"))
		return
	}
	p.LocationRaw = string(raw)
	p.Lon, p.Lat = p.Location.Centroid()
	rr.row.Action = ImportCreate
	r.write(func(ctx context.Context) (string, error) {
		p.ID, p.CreatedAt = id.New("prc"), r.s.now().UTC()
		return p.ID, r.s.store.insertParcel(ctx, p)
	})
}

// missingForNew says a new record lacks a field, and whether its column is
// missing or only its cell.
func missingForNew(r *importRun, field string) RowError {
	if _, ok := r.fields[field]; ok {
		return issue(field, "is required for a new "+strings.TrimSuffix(string(r.preview.Kind), "s"))
	}
	return issue(field, "is required for a new "+strings.TrimSuffix(string(r.preview.Kind), "s")+": no column gives it (for example %s)",
		columnExample(r.preview.Kind, field))
}

// compareParcel decides what a row does to the parcel it matched.
func (r *importRun) compareParcel(rr *importRowRun, match *Parcel, given Parcel, member *Member, areaGiven bool, loc *Geometry) {
	rr.row.ID = match.ID
	if given.Name != "" && foldText(given.Name) != foldText(match.Name) && recordCode(given.Name) != recordCode(match.Code) {
		rr.differs("name", "parcel's name", match.Name, given.Name)
	}
	if member != nil && member.ID != match.Member {
		rr.differs("member", "parcel's member", match.Member, member.ID)
	}
	if given.Commune != "" && placeKey(given.Commune) != placeKey(match.Commune) {
		rr.differs("commune", "parcel's commune", match.Commune, given.Commune)
	}
	if given.Crop != "" && given.Crop != match.Crop {
		rr.differs("crop", "parcel's crop", match.Crop, given.Crop)
	}
	if areaGiven && given.AreaM2 != match.AreaM2 {
		rr.differs("area_m2", "parcel's declared area (m²)", strconv.FormatInt(match.AreaM2, 10), strconv.FormatInt(given.AreaM2, 10))
	}
	var complete Parcel
	complete.ID = match.ID
	if loc != nil && !sameLocation(*loc, match.Location) {
		if loc.Type == "Polygon" && match.Location.Type != "Polygon" {
			// The walked outline of a parcel recorded as a point.
			if err := CheckDeclaredArea(match.AreaM2, *loc); err != nil {
				rr.fail(issueOf(err))
			} else {
				raw, _ := json.Marshal(*loc)
				complete.LocationRaw = string(raw)
				complete.Lon, complete.Lat = loc.Centroid()
				rr.row.Completes = append(rr.row.Completes, "location")
			}
		} else {
			rr.differs("location", "parcel's location", match.Location.Type, loc.Type)
		}
	}
	if rr.failed() {
		return
	}
	if given.Code != "" && match.Code == "" {
		complete.Code = given.Code
		rr.row.Completes = append(rr.row.Completes, "code")
	}
	rr.set("member", match.Member)
	rr.set("commune", match.Commune)
	rr.set("crop", match.Crop)
	rr.set("area_m2", strconv.FormatInt(match.AreaM2, 10))
	if complete.Code == "" && complete.LocationRaw == "" {
		rr.row.Action = ImportUnchanged
		return
	}
	rr.row.Action = ImportComplete
	r.write(func(ctx context.Context) (string, error) {
		return complete.ID, r.s.store.completeParcel(ctx, complete)
	})
}

// sameLocation compares two locations by their decoded coordinates, so
// spacing and number formatting do not count.
func sameLocation(a, b Geometry) bool {
	if a.Type != b.Type {
		return false
	}
	var x, y any
	if json.Unmarshal(a.Coordinates, &x) != nil || json.Unmarshal(b.Coordinates, &y) != nil {
		return false
	}
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return string(bx) == string(by)
}
