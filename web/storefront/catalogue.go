package storefront

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/catalogcache"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// perPage is how many products a catalogue page lists.
const perPage = 24

// memo is what the catalogue pages derive from one channel's catalogue.
type memo struct {
	items  []catalogcache.Item // in stock first, then by SKU
	bySKU  map[string]int
	search []string // per item: its names and SKU, lower-cased once
	kinds  []string
	claims []string
	coops  map[string]traceability.Cooperative
}

// Rendered pages are kept by the channel (catalogcache.Channel.KeepPage),
// gzipped, within the cache's byte budget: every product page of every
// channel fits, a product page stays until its own shelf moves, a list
// page until any shelf does, and searches are not kept.

// memoOf returns the channel's memo, made on first use.
func (h *Handlers) memoOf(ctx context.Context, ch *catalogcache.Channel) (*memo, error) {
	v, err := ch.Derived("storefront", func() (any, error) {
		items := slices.Clone(ch.Items()) // Items is shared: sort a copy
		// In stock first: a visitor looks for what can be bought today.
		slices.SortStableFunc(items, func(a, b catalogcache.Item) int {
			return rank(a.AvailableUnits == 0) - rank(b.AvailableUnits == 0)
		})
		m := &memo{items: items, bySKU: make(map[string]int, len(items)), coops: map[string]traceability.Cooperative{}}
		for i, it := range items {
			m.bySKU[it.SKU] = i
			m.search = append(m.search, strings.ToLower(strings.Join([]string{it.Names.FR, it.Names.EN, it.Names.AR, it.SKU}, "\x00")))
			if !slices.Contains(m.kinds, it.Kind) {
				m.kinds = append(m.kinds, it.Kind)
			}
			for _, cl := range it.Claims {
				if !slices.Contains(m.claims, cl) {
					m.claims = append(m.claims, cl)
				}
			}
			if _, ok := m.coops[it.Cooperative]; !ok {
				coop, err := h.d.Lots.CooperativeName(ctx, it.Cooperative)
				if err != nil {
					coop = traceability.Cooperative{Code: it.Cooperative, Name: it.Cooperative}
				}
				m.coops[it.Cooperative] = coop
			}
		}
		slices.Sort(m.kinds)
		slices.Sort(m.claims)
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*memo), nil
}

func rank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// option is a value of a filter select.
type option struct {
	Value, Label string
	Selected     bool
}

type itemView struct {
	SKU, Name, Price, Availability, CoopName, URL string
	InStock                                       bool
	Claims                                        []string
	Photo                                         *photoView
}

type photoView struct {
	URL  string
	W, H int
}

// catalogueView is the catalogue page.
type catalogueView struct {
	page.Page
	Shop                 catalogShop
	Base                 string // /shop/{channel}
	Q                    string
	Kinds, Coops, Claims []option
	Filtered             bool
	Count                string
	Items                []itemView
	Empty                string
	PageText             string
	PrevURL, NextURL     string
}

// catalogShop is the shop as the catalogue's header names it.
type catalogShop struct{ Name, City, Kind string }

func writeCatalogue(c *gin.Context, status int, b []byte) {
	// Short and private: prices and stock move, and the page's language
	// comes from a cookie or Accept-Language.
	c.Header("Cache-Control", "private, max-age=60")
	c.Header("Vary", "Accept-Language, Cookie")
	c.Data(status, "text/html; charset=utf-8", b)
}

// writeKeptCatalogue answers with a page the channel kept gzipped.
func writeKeptCatalogue(c *gin.Context, z []byte) {
	c.Header("Cache-Control", "private, max-age=60")
	c.Header("Vary", "Accept-Language, Cookie")
	page.WriteGzipped(c, http.StatusOK, "text/html; charset=utf-8", z)
}

func (h *Handlers) renderCatalogue(c *gin.Context, name string, v any) ([]byte, bool) {
	b, err := h.d.Pages.Bytes(name, v)
	if err != nil {
		page.Fail(c, err)
		return nil, false
	}
	writeCatalogue(c, http.StatusOK, b)
	return b, true
}

// Catalogue answers GET /shop/{channel}: a channel's priced products
// (filters kind, cooperative, claim; search q in any of the three
// languages; 24 a page).
func (h *Handlers) Catalogue(c *gin.Context) {
	l := page.Locale(c)
	ctx := c.Request.Context()
	ch, err := h.channel(ctx, c.Param("channel"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	m, err := h.memoOf(ctx, ch)
	if err != nil {
		page.Fail(c, err)
		return
	}
	kind, coop, claim := c.Query("kind"), id.NormalizeCode(c.Query("cooperative")), c.Query("claim")
	q := strings.TrimSpace(c.Query("q"))
	if r := []rune(q); len(r) > 100 {
		q = string(r[:100])
	}
	pageNo, _ := strconv.Atoi(c.Query("page"))
	pageNo = max(pageNo, 1)
	key := strings.Join([]string{l.Code(), kind, coop, claim, strconv.Itoa(pageNo)}, "\x00")
	if q == "" {
		if z := ch.Page("", key); z != nil {
			writeKeptCatalogue(c, z)
			return
		}
	}
	// The query the page's own links carry: only what it understands.
	query := url.Values{}
	for k, v := range map[string]string{"kind": kind, "cooperative": coop, "claim": claim, "q": q} {
		if v != "" {
			query.Set(k, v)
		}
	}
	shop := ch.Shop()
	base := "/shop/" + url.PathEscape(shop.Code)
	v := &catalogueView{Page: h.d.Pages.PublicPage(c, l.T("cat_title")+" · "+shop.Name), Q: q, Filtered: len(query) > 0,
		Shop: catalogShop{shop.Name, shop.City, shop.Kind}, Base: base}
	v.Styles = []string{"catalog.css"}
	v.Languages = languagesWith(v.Languages, query)
	for _, k := range m.kinds {
		v.Kinds = append(v.Kinds, option{k, l.Kind(k), k == kind})
	}
	for _, code := range slices.Sorted(maps.Keys(m.coops)) {
		v.Coops = append(v.Coops, option{code, m.coops[code].Name, code == coop})
	}
	for _, cl := range m.claims {
		v.Claims = append(v.Claims, option{cl, cl, strings.EqualFold(cl, claim)})
	}
	// Matches without q, then q against the lower-cased names: the same
	// rule as the JSON catalogue without lower-casing 4 000 strings a search.
	lq := strings.ToLower(q)
	var found []*catalogcache.Item
	for i := range m.items {
		if m.items[i].Matches(kind, coop, claim, "") && (lq == "" || strings.Contains(m.search[i], lq)) {
			found = append(found, &m.items[i])
		}
	}
	pages := max((len(found)+perPage-1)/perPage, 1)
	pageNo = min(pageNo, pages)
	from := (pageNo - 1) * perPage
	for _, it := range found[from:min(from+perPage, len(found))] {
		v.Items = append(v.Items, itemOf(l, it, m, base))
	}
	v.Count = l.T("cat_count", len(found))
	if len(found) == 0 {
		v.Empty = l.T("cat_empty_channel")
		if v.Filtered {
			v.Empty = l.T("cat_empty")
		}
	}
	if pages > 1 {
		v.PageText = l.T("cat_page", pageNo, pages)
		link := func(n int) string {
			qq := url.Values{}
			for k, vv := range query {
				qq[k] = vv
			}
			qq.Set("page", strconv.Itoa(n))
			return base + "?" + qq.Encode()
		}
		if pageNo > 1 {
			v.PrevURL = link(pageNo - 1)
		}
		if pageNo < pages {
			v.NextURL = link(pageNo + 1)
		}
	}
	b, ok := h.renderCatalogue(c, "storefront/catalogue", v)
	if ok && q == "" {
		ch.KeepPage("", key, page.Gzip(b))
	}
}

// languagesWith keeps only the page's own filters in its language links.
func languagesWith(links []page.LangLink, query url.Values) []page.LangLink {
	out := make([]page.LangLink, len(links))
	for i, ll := range links {
		u, err := url.Parse(ll.URL)
		if err != nil {
			out[i] = ll
			continue
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("lang", ll.Code)
		ll.URL = u.EscapedPath() + "?" + q.Encode()
		out[i] = ll
	}
	return out
}

func itemOf(l *i18n.Locale, it *catalogcache.Item, m *memo, base string) itemView {
	v := itemView{SKU: it.SKU, Name: it.Names.In(l.Code()), Price: l.Money(it.Price.Amount, it.Price.Currency),
		CoopName: m.coops[it.Cooperative].Name, URL: base + "/" + url.PathEscape(it.SKU),
		InStock: it.AvailableUnits > 0, Claims: it.Claims}
	if v.InStock {
		v.Availability = l.T("cat_in_stock", it.AvailableUnits)
	} else {
		v.Availability = l.T("cat_out_of_stock")
	}
	if id := it.Product.Photo; catalog.ValidPhotoID(id) {
		w, h := catalog.ThumbSize(catalog.PhotoSize(id))
		v.Photo = &photoView{URL: "/photos/" + id + ".jpg?size=thumb", W: w, H: h}
	}
	return v
}

// lotLink is a lot on the shelf with its signed trace URL.
type lotLink struct {
	Code, BestBefore, URL string
	Category              string // "Catégorie I (ISO 3632)" when the lot shows one (issue 18)
}

type claimView struct {
	traceability.ClaimStatus
	Label string
}

// productView is a product's page.
type productView struct {
	page.Page
	Shop          catalogShop
	Base          string
	Item          itemView
	OtherNames    []string
	Description   string
	UnitSize      string
	Coop          traceability.Cooperative
	CoopKind      string
	ProducersText string
	Claims        []claimView
	Lots          []lotLink
	MoreLots      string
	Photo         *photoView
	Buy           bool // the online shop sells it and it is in stock
}

// maxTraceLinks caps the lots a product page reads and links.
const maxTraceLinks = 10

// Product answers GET /shop/{channel}/{sku}: a product with its
// cooperative, its claims and signed links to the trace pages of the lots
// on the shelf.
func (h *Handlers) Product(c *gin.Context) {
	l := page.Locale(c)
	ctx := c.Request.Context()
	ch, err := h.channel(ctx, c.Param("channel"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	m, err := h.memoOf(ctx, ch)
	if err != nil {
		page.Fail(c, err)
		return
	}
	sku := strings.ToUpper(strings.TrimSpace(c.Param("sku")))
	i, ok := m.bySKU[sku]
	if !ok {
		page.Fail(c, errUnknownProduct)
		return
	}
	key := "product\x00" + sku + "\x00" + l.Code()
	if z := ch.Page(sku, key); z != nil {
		writeKeptCatalogue(c, z)
		return
	}
	it := &m.items[i]
	p := it.Product
	shop := ch.Shop()
	base := "/shop/" + url.PathEscape(shop.Code)
	v := &productView{Shop: catalogShop{shop.Name, shop.City, shop.Kind}, Base: base, Item: itemOf(l, it, m, base)}
	v.Page = h.d.Pages.PublicPage(c, v.Item.Name+" · "+shop.Name)
	v.Styles = []string{"catalog.css"}
	v.Languages = languagesWith(v.Languages, nil)
	v.Buy = shop.Kind == "platform" && v.Item.InStock
	for _, lang := range h.d.Pages.Bundle().Languages() {
		if n := p.Names.In(lang.Code()); lang != l && n != v.Item.Name && !slices.Contains(v.OtherNames, n) {
			v.OtherNames = append(v.OtherNames, n)
		}
	}
	v.Description = p.Descriptions.In(l.Code())
	v.UnitSize = l.Quantity(p.UnitSize, p.UnitSizeUnit)
	v.Coop = m.coops[p.Cooperative]
	if v.Coop.Kind != "" && l.Has("coop_kind."+v.Coop.Kind) {
		v.CoopKind = l.Term("coop_kind", v.Coop.Kind)
	}
	if id := p.Photo; catalog.ValidPhotoID(id) {
		w, h := catalog.PhotoSize(id)
		v.Photo = &photoView{URL: "/photos/" + id + ".jpg", W: w, H: h}
	}
	// The lots on the shelf, FEFO: their trace links, their producers and
	// the claims every one of them carries, with each certificate's status
	// today (a withdrawal shows at once).
	shelf := ch.Shelf(sku)
	members := map[string]string{}
	for n, sl := range shelf.Lots {
		if n >= maxTraceLinks {
			break
		}
		lot, err := h.d.Lots.PublicLot(ctx, sl.Lot)
		if err != nil {
			continue // the shelf lists it, the lot is gone: nothing to link
		}
		link := lotLink{Code: lot.Code, BestBefore: lot.BestBefore, URL: h.d.Codes.URL(traceability.RefOf(lot, ""))}
		if _, ok := traceability.CategoryMention(lot.Quality); ok {
			link.Category = l.T("iso3632_category", lot.Quality.Category)
		}
		v.Lots = append(v.Lots, link)
		for _, o := range lot.Origin {
			members[o.Member] = o.Gender
		}
	}
	if more := len(shelf.Lots) - maxTraceLinks; more > 0 {
		v.MoreLots = l.T("cat_more_lots", more)
	}
	women := 0
	for _, g := range members {
		if g == "female" {
			women++
		}
	}
	if len(members) > 0 {
		v.ProducersText = l.T("cat_producers", len(members), l.T("women_count", women))
	}
	if common := catalogcache.CommonClaims(shelf); len(common) > 0 {
		statuses, err := h.d.Lots.ClaimStatuses(ctx, traceability.Lot{Claims: common})
		if err != nil {
			page.Fail(c, err)
			return
		}
		for _, cl := range statuses {
			v.Claims = append(v.Claims, claimView{cl, l.Term("status", cl.Status)})
		}
	}
	if b, ok := h.renderCatalogue(c, "storefront/product", v); ok {
		ch.KeepPage(sku, key, page.Gzip(b))
	}
}
