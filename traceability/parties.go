package traceability

import (
	"context"
	"regexp"
	"time"

	// The time zone database travels in the binary, so EPCIS offsets are
	// right on a machine without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/terroir-coop/terroir/internal/problem"
)

// Where events happen and who takes part in them, for EPCIS: a cooperative
// or a shop, with its GLN when it has one and the IANA time zone of its
// place. Cooperatives are Moroccan: their zone defaults to
// Africa/Casablanca. Shops are described by the shops package (a
// PartyDirectory), whose default zone follows the shop's country.

// DefaultCooperativeZone is the time zone of a cooperative that records none.
const DefaultCooperativeZone = "Africa/Casablanca"

// Party is an organisation that takes part in events.
type Party struct {
	Code     string
	GLN      string // 13 digits, or "" when the organisation has none
	TimeZone string // IANA name, e.g. Africa/Casablanca
	Shop     bool   // a shop or the EU platform, not a cooperative
}

// PartyDirectory describes the shops (the shops package implements it).
// ok is false for an unknown code.
type PartyDirectory interface {
	Party(ctx context.Context, code string) (p Party, ok bool, err error)
}

var glnPattern = regexp.MustCompile(`^\d{13}$`)

// CheckGLN validates an optional GS1 Global Location Number: 13 digits with
// a valid check digit, or empty.
func CheckGLN(field, gln string) error {
	if gln == "" {
		return nil
	}
	if !glnPattern.MatchString(gln) || gs1CheckDigit(gln[:12]) != gln[12:] {
		return problem.Field(field, "must be a GLN: 13 digits ending with their GS1 check digit")
	}
	return nil
}

// CheckTimeZone validates an optional IANA time zone name.
func CheckTimeZone(field, zone string) error {
	if zone == "" {
		return nil
	}
	if _, err := time.LoadLocation(zone); err != nil || zone == "Local" {
		return problem.Field(field, "must be an IANA time zone such as Africa/Casablanca or Europe/Paris")
	}
	return nil
}

// Zone is the cooperative's time zone, by default Africa/Casablanca.
func (c Cooperative) Zone() string {
	if c.TimeZone != "" {
		return c.TimeZone
	}
	return DefaultCooperativeZone
}

// zoneOffset is the UTC offset of zone at t, as EPCIS writes it (+01:00).
// An unknown zone counts as UTC (zones are validated when recorded).
func zoneOffset(zone string, t time.Time) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return "+00:00"
	}
	return t.In(loc).Format("-07:00")
}
