package traceability

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Certificates of a cooperative come from the list its certification file
// keeps: scheme, control body, number, validity, scope. A certificate is
// matched by its scheme and number; its scope's parcels are named by their
// codes or names. Only admins record certificates (as CreateCertification).

func (r *importRun) planCertifications(ctx context.Context) error {
	existing, err := r.s.store.certificationsOf(ctx, r.coop.Code)
	if err != nil {
		return err
	}
	parcels, err := r.s.store.parcels(ctx, r.coop.Code, mongodb.Page{Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	prefs := parcelRefs(parcels)
	byKey := map[string]*Certification{}
	for i := range existing {
		c := &existing[i]
		byKey[certificationKey(c.Scheme, c.Number)] = c
	}
	r.requireColumns([]string{"scheme", "body", "number", "valid_from", "valid_to"}, nil)
	for _, f := range r.preview.Missing {
		r.fileProblem(issue(f, "no column gives the %s: add one (for example %s)", f, columnExample(ImportKindCertifications, f)))
	}
	seen := map[string]int{}
	r.eachRow(func(rr *importRowRun) {
		nc := NewCertification{Holder: r.coop.Code, Scheme: rr.cell("scheme"), Body: rr.cell("body"), BodyCode: rr.cell("body_code"),
			Number: rr.cell("number"), ProductKinds: []string{}, Parcels: []string{}}
		for _, f := range []struct{ field, v string }{{"scheme", nc.Scheme}, {"body", nc.Body}, {"number", nc.Number}} {
			if f.v == "" {
				rr.fail(issue(f.field, "is required"))
			}
			rr.set(f.field, f.v)
		}
		rr.set("body_code", nc.BodyCode)
		nc.ValidFrom, nc.ValidTo = rr.date("valid_from", true), rr.date("valid_to", true)
		for _, v := range splitList(rr.cell("product_kinds")) {
			k, ok := parseProductKind(v)
			if !ok {
				rr.fail(issue("product_kinds", "%q is not a product kind: use one of %s", v, strings.Join(ProductKinds(), ", ")))
				continue
			}
			if !slices.Contains(nc.ProductKinds, k) {
				nc.ProductKinds = append(nc.ProductKinds, k)
			}
		}
		rr.set("product_kinds", strings.Join(nc.ProductKinds, ", "))
		var names []string
		for _, ref := range splitList(rr.cell("parcels")) {
			found := prefs.find(ref)
			switch len(found) {
			case 0:
				rr.fail(issue("parcels", "%q is not a parcel of this cooperative", ref))
			case 1:
				if !slices.Contains(nc.Parcels, found[0].ID) {
					nc.Parcels = append(nc.Parcels, found[0].ID)
					names = append(names, found[0].Name)
				}
			default:
				rr.fail(issue("parcels", "%q names %s parcels: give the parcel's code", ref, strconv.Itoa(len(found))))
			}
		}
		rr.set("parcels", strings.Join(nc.Parcels, ", "))
		rr.set("parcel_names", strings.Join(names, ", "))
		if rr.failed() {
			return
		}
		key := certificationKey(nc.Scheme, nc.Number)
		if prev, ok := seen[key]; ok {
			rr.fail(issue("number", "%s is also on row %s", nc.Scheme+" "+nc.Number, strconv.Itoa(prev)))
			return
		}
		seen[key] = rr.row.Row
		if match := byKey[key]; match != nil {
			rr.row.ID = match.ID
			compareCertification(rr, *match, nc)
			if !rr.failed() {
				rr.row.Action = ImportUnchanged
			}
			return
		}
		c, err := r.s.checkCertification(ctx, nc)
		if err != nil {
			rr.fail(issueOf(err))
			return
		}
		rr.row.Action = ImportCreate
		r.write(func(ctx context.Context) (string, error) {
			now := r.s.now().UTC()
			c.ID, c.CreatedAt = id.New("crt"), now
			c.History = []StatusChange{{Status: StatusValid, Reason: "imported from " + r.preview.Filename, By: r.actor.Email, At: now}}
			return c.ID, r.s.store.insertCertification(ctx, c)
		})
	})
	return nil
}

func certificationKey(scheme, number string) string {
	return foldText(scheme) + "|" + recordCode(number)
}

// compareCertification refuses a row that contradicts the certificate on
// record (its status is the admin's, not the file's, and is not compared).
func compareCertification(rr *importRowRun, c Certification, nc NewCertification) {
	if strings.TrimSpace(nc.Body) != c.Body {
		rr.differs("body", "certificate's control body", c.Body, nc.Body)
	}
	if strings.TrimSpace(nc.BodyCode) != c.BodyCode && nc.BodyCode != "" {
		rr.differs("body_code", "certificate's control body code", c.BodyCode, nc.BodyCode)
	}
	if nc.ValidFrom != c.ValidFrom {
		rr.differs("valid_from", "certificate's start of validity", c.ValidFrom, nc.ValidFrom)
	}
	if nc.ValidTo != c.ValidTo {
		rr.differs("valid_to", "certificate's end of validity", c.ValidTo, nc.ValidTo)
	}
	if !sameSet(nc.ProductKinds, c.ProductKinds) {
		rr.differs("product_kinds", "certificate's product kinds", strings.Join(c.ProductKinds, ", "), strings.Join(nc.ProductKinds, ", "))
	}
	if !sameSet(nc.Parcels, c.Parcels) {
		rr.differs("parcels", "certificate's parcels", strings.Join(c.Parcels, ", "), strings.Join(nc.Parcels, ", "))
	}
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// date reads a date column as written in Morocco and France (or ISO, or a
// spreadsheet's date cell). required says whether an empty cell is a
// problem.
func (rr *importRowRun) date(field string, required bool) string {
	v := rr.cell(field)
	if v == "" {
		if required {
			rr.fail(issue(field, "is required"))
		}
		return ""
	}
	if rr.run.opts.legacyHarvests {
		if _, ok := parseDate(v, false, false); !ok || !isoDate.MatchString(v) || len(v) != 10 {
			rr.fail(issue(field, "must be a calendar date as YYYY-MM-DD"))
			return ""
		}
	}
	d, ok := parseDate(v, rr.run.table.serialDates, rr.run.table.date1904)
	if !ok {
		rr.fail(issue(field, "%q is not a date: write it as 15/11/2025 (day first) or 2025-11-15", v))
		return ""
	}
	rr.set(field, d)
	return d
}
