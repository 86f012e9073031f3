package web

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

const langCookie = "terroir_lang"

// language picks the page language: ?lang= (remembered in a cookie), then
// the cookie, then Accept-Language with its quality values, then French
// (i18n.Bundle.Negotiate), among the languages the route's page group is
// offered in (a partial catalogue, such as the Tamazight one, only on the
// pages of a group it completes). It reads no session, so the public
// trace and catalogue pages use it too.
func (s *Server) language(c *gin.Context) { s.languageIn(c, s.groupOf[c.FullPath()]) }

// languageIn is language for a page of group, for answers no route names
// (a compressed Digital Link is a trace page).
func (s *Server) languageIn(c *gin.Context, group string) {
	q := c.Query("lang")
	cookie, _ := c.Cookie(langCookie)
	page.SetGroup(c, group)
	l := s.bundle.NegotiateFor(group, q, cookie, c.GetHeader("Accept-Language"))
	if q != "" && l.Code() == q && cookie != q {
		s.pages.SetCookie(c, langCookie, q, 365*24*3600)
	}
	page.SetLocale(c, l)
	c.Next()
}

// The page groups a partial catalogue may be written for (issue 12 item
// 7: Tamazight in Tifinagh for the consumer's trace page and the manager's
// harvest recording).
const (
	groupTrace   = "trace"
	groupHarvest = "harvest"
)

// pageGroup is one group: the routes whose pages belong to it, the
// templates those pages render, and the keys their handlers print besides
// (vocabularies, titles, flashes, the refusals of their forms). Every key
// of the group is what the templates use (page.Renderer.Keys, so it
// follows the templates) plus these; a partial catalogue completes the
// group only with all of them.
type pageGroup struct {
	routes []string
	pages  []string
	keys   func() []string
}

var pageGroups = map[string]pageGroup{
	groupTrace: {
		routes: []string{"/t/:lot", "/01/:gtin/10/:lot", "/01/:gtin/10/:lot/21/:serial", "/01/:gtin/10/:lot/", "/01/:gtin/10/:lot/21/:serial/"},
		pages:  []string{"trace/trace", "page/public_error"},
		keys: func() []string {
			keys := []string{"tr_title_problem", "tr_producers_count", "women_count", "tr_cloned", "iso3632_category",
				"tr_map_label", "tr_map_km", "tr_map_m", "list_separator",
				// Who made it, and quantities in the page's language.
				"men_count", "tr_women_and_men", "tr_producers_split",
				"unit.mg", "unit.g", "unit.kg", "unit.ml", "unit.l", "unit.pcs",
				// The errors a trace page answers with the light error page.
				"unknown code: this product was not registered by a Terroir cooperative", "err_internal"}
			keys = append(keys, vocabulary("kind", traceability.ProductKinds())...) // the product's name when the catalogue has none in the language; corrections
			keys = append(keys, vocabulary("step", append([]string{"harvest", "packing"}, traceability.Processes...))...)
			keys = append(keys, vocabulary("status", []string{traceability.StatusValid, traceability.StatusSuspended, traceability.StatusWithdrawn, traceability.StatusExpired})...)
			keys = append(keys, vocabulary("event", []string{traceability.EventCreated, traceability.EventShipped, traceability.EventReceived, traceability.EventSold, traceability.EventReturned})...)
			return keys
		},
	},
	groupHarvest: {
		routes: []string{"/coop/:coop/harvests", "/coop/:coop/harvests/import", "/coop/:coop/harvests/corrections",
			"/coop/:coop/harvests/offline", "/coop/:coop/harvests/outbox"},
		pages: []string{"backoffice/harvests", "backoffice/offline", "page/error"},
		keys: func() []string {
			keys := []string{
				// The frame: the title, the navigation of a cooperative's
				// manager, the records' tabs, the pager, the flashes.
				"harvests", "off_title", "my_cooperative", "records", "members", "parcels", "lots", "sh_holdings", "stm_title",
				"pay_title", "consignments", "audit", "imp_nav", "previous", "next", "saved", "correction_saved", "harvests_imported",
				"field_error", "field_row", "err_title", "err_internal",
				// Quantities and harvest flags in the page's language.
				"unit.mg", "unit.g", "unit.kg", "unit.ml", "unit.l", "unit.pcs", "flag_harvest", "flag_harvest_season",
				// The offline page's script.
				"off_waiting", "off_refused", "off_sent", "off_fix", "off_remove", "off_offline", "off_online", "off_login",
				"off_saved", "off_status_waiting", "off_status_refused",
				// The fields the forms name, and their refusals.
				"field.parcel", "field.member", "field.date", "field.crop", "field.quantity", "field.amount", "field.unit",
				"field.advance", "field.method", "field.currency", "field.reason", "field.confirm", "field.harvest", "field.file",
				"is required", "%q is not a whole number", "must be a calendar date as YYYY-MM-DD", "is in the future",
				"must be one of %s", "amount must be a positive whole number, got %d", "%s is counted in %s (%s), not %s",
				"%d %s is too large", "unit is required (one of mg, g, kg, ml, l, pcs)", "unknown unit %q (use mg, g, kg, ml, l or pcs)",
				"is too large: the total it makes with what is already recorded cannot be counted",
				"%s of %s on %s m² in a season is more than any field gives: the limit is %s on that area (%s kg/ha, ten times the top of the plausible range)",
				"%q is not a parcel of cooperative %s", "%q is not a member of cooperative %s", "%q is not a parcel of this cooperative",
				"parcel %s grows %s, not %s",
				"must be a whole number of minor units (centimes) from 1 to 100 000 000",
				"must be %s, the currency the cooperative pays its members in",
				"say why the quantity is corrected", "tick the box to confirm: a correction stays in the lot's history for good",
				"is not a harvest of this cooperative; reload the page", "harvest %s is already %s",
				"choose a CSV file or paste its lines", "has no harvest rows", "is empty or not CSV: the first line must be %s",
				"the first line must be %s", "is not valid UTF-8",
				"%d rows were refused; nothing was imported: correct them and send the whole file again",
			}
			keys = append(keys, vocabulary("kind", traceability.Crops)...)
			keys = append(keys, vocabulary("pay_method", traceability.AdvanceMethods)...)
			keys = append(keys, vocabulary("dimension", []string{traceability.DimensionMass, traceability.DimensionVolume, traceability.DimensionCount})...)
			return keys
		},
	},
}

func vocabulary(v string, codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = v + "." + c
	}
	return out
}

// groupKeys is every key of each page group: the keys its templates use
// and those its handlers print.
func groupKeys(r *page.Renderer) (map[string][]string, error) {
	out := map[string][]string{}
	for name, g := range pageGroups {
		keys, unknown := r.Keys(g.pages...)
		if len(unknown) > 0 {
			return nil, fmt.Errorf("web: page group %s names pages that do not exist: %s", name, strings.Join(unknown, ", "))
		}
		keys = append(keys, g.keys()...)
		slices.Sort(keys)
		out[name] = slices.Compact(keys)
	}
	return out, nil
}

// defineGroups tells the catalogues which keys each page group uses, so
// that a partial catalogue is offered only where it lacks none, and maps
// each group's routes to it. What a partial catalogue lacks is logged at
// start (TestPartialCataloguesCompleteTheirGroups fails on it): the
// language is then not offered on those pages, rather than shown with
// French or English holes.
func (s *Server) defineGroups() error {
	keys, err := groupKeys(s.pages)
	if err != nil {
		return err
	}
	for lang, groups := range s.bundle.DefineGroups(keys) {
		for group, missing := range groups {
			s.log.Warn("partial catalogue not offered on a page group: keys missing", "language", lang, "group", group, "missing", strings.Join(missing, " | "))
		}
	}
	s.groupOf = map[string]string{}
	for name, g := range pageGroups {
		for _, r := range g.routes {
			s.groupOf[r] = name
		}
	}
	return nil
}

// GroupKeys is every key of each page group, for the tests that check the
// partial catalogues.
func (s *Server) GroupKeys() map[string][]string {
	keys, _ := groupKeys(s.pages)
	return keys
}

// Bundle is the server's catalogues.
func (s *Server) Bundle() *i18n.Bundle { return s.bundle }
