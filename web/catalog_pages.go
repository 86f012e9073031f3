package web

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
)

// The public catalogue: /shop/{channel} lists a channel's priced products
// (filters kind, cooperative, claim; search q in any of the three
// languages; 24 a page) and /shop/{channel}/{sku} shows one with its
// cooperative, its claims and signed links to the trace pages of the lots
// on the shelf.
//
// Like the trace page these routes sit outside the session middleware (no
// cookie but the language one is read) and use a light template of their
// own. Everything a listing needs is in the channel's CatalogCache entry;
// what the pages derive from it (the ordered items, filter options,
// cooperatives, rendered pages) is memoised in that entry, so it is
// rebuilt exactly when the entry is (a stock move, a price, the TTL).

const catalogPageSize = 24

// catalogRoutes registers the catalogue pages, the product photos and the
// photo upload.
func (s *Server) catalogRoutes(r *gin.Engine, api *gin.RouterGroup) {
	r.GET("/shop/:channel", s.catalogPage)
	r.GET("/shop/:channel/:sku", s.productPage)
	r.GET("/photos/:file", s.photo)
	api.POST(strings.TrimPrefix(photoUploadRoute, "/api/v1"), s.uploadPhoto)
}

// catalogMemo is what the pages derive from one channelCatalog. The zero
// value is ready to use; it is filled on first use.
type catalogMemo struct {
	mu     sync.Mutex
	ready  bool
	shop   shops.Shop
	items  []catalogItem // in stock first, then by SKU
	bySKU  map[string]int
	search []string // per item: its names and SKU, lower-cased once
	kinds  []string
	claims []string
	coops  map[string]traceability.Cooperative
	pages  map[string][]byte // rendered pages by language, filters and page
}

// maxMemoPages bounds the rendered pages kept per channel: filter
// combinations are few, and searches are not kept.
const maxMemoPages = 512

func (m *catalogMemo) page(key string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pages[key]
}

func (m *catalogMemo) keep(key string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pages == nil {
		m.pages = map[string][]byte{}
	}
	if len(m.pages) < maxMemoPages {
		m.pages[key] = b
	}
}

// known reports whether the cache holds the channel: it was built after
// the channel's shop was found, and shops are never deleted.
func (c *CatalogCache) known(channel string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.channels[channel] != nil
}

// channelView returns the channel's catalogue and its memo, filled. An
// unknown channel is ErrShopNotFound-like: a not_found problem.
func (s *Server) channelView(ctx context.Context, channel string) (*channelCatalog, *catalogMemo, error) {
	cc, err := s.catalogOf(ctx, channel)
	if err != nil {
		return nil, nil, err
	}
	m := &cc.memo
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ready {
		return cc, m, nil
	}
	if m.shop, err = s.deps.Shops.Shop(ctx, channel); err != nil {
		return nil, nil, err
	}
	items := slices.Clone(cc.items(channel)) // items() is shared: sort a copy
	// In stock first: a visitor looks for what can be bought today.
	slices.SortStableFunc(items, func(a, b catalogItem) int {
		return boolRank(a.AvailableUnits == 0) - boolRank(b.AvailableUnits == 0)
	})
	m.items, m.bySKU, m.coops = items, make(map[string]int, len(items)), map[string]traceability.Cooperative{}
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
			coop, err := s.deps.Traceability.CooperativeName(ctx, it.Cooperative)
			if err != nil {
				coop = traceability.Cooperative{Code: it.Cooperative, Name: it.Cooperative}
			}
			m.coops[it.Cooperative] = coop
		}
	}
	slices.Sort(m.kinds)
	slices.Sort(m.claims)
	m.ready = true
	return cc, m, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// formatMoney writes a price as people of each language expect it:
// "120,00 DH", "MAD 120.00", "12,50 €", "€12.50".
func formatMoney(m catalog.Money, lang string) string {
	units, cents := m.Amount/100, m.Amount%100
	if m.Amount < 0 {
		return m.String()
	}
	digits := strconv.FormatInt(units, 10)
	sep := "\u202f" // French and Moroccan usage: 1 200,00
	if lang == "en" {
		sep = ","
	}
	var grouped strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			grouped.WriteString(sep)
		}
		grouped.WriteRune(d)
	}
	switch lang {
	case "en":
		n := fmt.Sprintf("%s.%02d", grouped.String(), cents)
		if m.Currency == "EUR" {
			return "€" + n
		}
		return m.Currency + " " + n
	default:
		n := fmt.Sprintf("%s,%02d", grouped.String(), cents)
		switch m.Currency {
		case "EUR":
			return n + "\u00a0€"
		case "MAD":
			return n + "\u00a0" + messages[lang]["cat_mad"]
		}
		return n + "\u00a0" + m.Currency
	}
}

// catalogHead is what both catalogue templates show around the content.
type catalogHead struct {
	T         map[string]string
	Lang, Dir string
	Languages []langLink
	Version   string
	Title     string
	Shop      shops.Shop
	Base      string // /shop/{channel}
	Missing   string // a 404 message instead of content
}

func (s *Server) catalogHead(lang, path string, query url.Values) catalogHead {
	t := messages[lang]
	h := catalogHead{T: t, Lang: lang, Dir: t["dir"], Version: s.cfg.Version}
	for _, l := range languages {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("lang", l)
		h.Languages = append(h.Languages, langLink{Code: l, Name: messages[l]["lang_name"], URL: path + "?" + q.Encode(), Current: l == lang})
	}
	return h
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

type catalogView struct {
	catalogHead
	Q                    string
	Kinds, Coops, Claims []option
	Filtered             bool
	Count                string
	Items                []itemView
	Empty                string
	PageText             string
	PrevURL, NextURL     string
}

func (s *Server) writeCatalogHTML(c *gin.Context, status int, b []byte) {
	// Short and private: prices and stock move, and the page's language
	// comes from a cookie or Accept-Language.
	c.Header("Cache-Control", "private, max-age=60")
	c.Header("Vary", "Accept-Language, Cookie")
	c.Data(status, "text/html; charset=utf-8", b)
}

func (s *Server) renderCatalogTemplate(c *gin.Context, status int, page, name string, v any) ([]byte, bool) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, name, v); err != nil {
		s.renderFailure(c, err)
		return nil, false
	}
	s.writeCatalogHTML(c, status, buf.Bytes())
	return buf.Bytes(), true
}

// catalogMissing answers 404 with the catalogue's look.
func (s *Server) catalogMissing(c *gin.Context, lang, key string, err error) {
	if problem.CodeOf(err) != problem.NotFound {
		s.renderFailure(c, err)
		return
	}
	h := s.catalogHead(lang, c.Request.URL.Path, url.Values{})
	h.Missing = h.T[key]
	h.Title = h.Missing + " · " + h.T["site"]
	s.renderCatalogTemplate(c, http.StatusNotFound, "catalog", "catalog_page", &catalogView{catalogHead: h})
}

func (s *Server) catalogPage(c *gin.Context) {
	lang := s.traceLanguage(c)
	channel := traceability.NormalizeCode(c.Param("channel"))
	_, m, err := s.channelView(c.Request.Context(), channel)
	if err != nil {
		s.catalogMissing(c, lang, "cat_unknown_channel", err)
		return
	}
	kind, coop, claim := c.Query("kind"), traceability.NormalizeCode(c.Query("cooperative")), c.Query("claim")
	q := strings.TrimSpace(c.Query("q"))
	if r := []rune(q); len(r) > 100 {
		q = string(r[:100])
	}
	pageNo, _ := strconv.Atoi(c.Query("page"))
	pageNo = max(pageNo, 1)
	key := strings.Join([]string{lang, kind, coop, claim, strconv.Itoa(pageNo)}, "\x00")
	if q == "" {
		if b := m.page(key); b != nil {
			s.writeCatalogHTML(c, http.StatusOK, b)
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
	base := "/shop/" + url.PathEscape(channel)
	v := &catalogView{catalogHead: s.catalogHead(lang, base, query), Q: q, Filtered: len(query) > 0}
	v.Shop, v.Base = m.shop, base
	t := v.T
	v.Title = t["cat_title"] + " · " + m.shop.Name
	for _, k := range m.kinds {
		v.Kinds = append(v.Kinds, option{k, kindName(k, lang), k == kind})
	}
	for _, code := range slices.Sorted(maps.Keys(m.coops)) {
		v.Coops = append(v.Coops, option{code, m.coops[code].Name, code == coop})
	}
	for _, cl := range m.claims {
		v.Claims = append(v.Claims, option{cl, cl, strings.EqualFold(cl, claim)})
	}
	// matches() without q, then q against the lower-cased names: the same
	// rule as the JSON catalogue without lower-casing 4 000 strings a search.
	lq := strings.ToLower(q)
	var found []*catalogItem
	for i := range m.items {
		if m.items[i].matches(kind, coop, claim, "") && (lq == "" || strings.Contains(m.search[i], lq)) {
			found = append(found, &m.items[i])
		}
	}
	pages := max((len(found)+catalogPageSize-1)/catalogPageSize, 1)
	pageNo = min(pageNo, pages)
	from := (pageNo - 1) * catalogPageSize
	for _, it := range found[from:min(from+catalogPageSize, len(found))] {
		v.Items = append(v.Items, s.itemView(it, m, base, lang))
	}
	v.Count = fmt.Sprintf(t["cat_count"], len(found))
	if len(found) == 0 {
		v.Empty = t["cat_empty_channel"]
		if v.Filtered {
			v.Empty = t["cat_empty"]
		}
	}
	if pages > 1 {
		v.PageText = fmt.Sprintf(t["cat_page"], pageNo, pages)
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
	b, ok := s.renderCatalogTemplate(c, http.StatusOK, "catalog", "catalog_page", v)
	if ok && q == "" {
		m.keep(key, b)
	}
}

func (s *Server) itemView(it *catalogItem, m *catalogMemo, base, lang string) itemView {
	t := messages[lang]
	v := itemView{SKU: it.SKU, Name: it.Names.In(lang), Price: formatMoney(it.Price, lang),
		CoopName: m.coops[it.Cooperative].Name, URL: base + "/" + url.PathEscape(it.SKU),
		InStock: it.AvailableUnits > 0, Claims: it.Claims}
	if v.InStock {
		v.Availability = fmt.Sprintf(t["cat_in_stock"], it.AvailableUnits)
	} else {
		v.Availability = t["cat_out_of_stock"]
	}
	if id := it.product.Photo; catalog.ValidPhotoID(id) {
		w, h := catalog.ThumbSize(catalog.PhotoSize(id))
		v.Photo = &photoView{URL: "/photos/" + id + ".jpg?size=thumb", W: w, H: h}
	}
	return v
}

// lotLink is a lot on the shelf with its signed trace URL.
type lotLink struct {
	Code, BestBefore, URL string
}

type productPageView struct {
	catalogHead
	Item          itemView
	OtherNames    []string
	Description   string
	UnitSize      string
	Coop          traceability.Cooperative
	CoopKind      string
	Producers     int
	Women         int
	ProducersText string
	Claims        []claimView
	Lots          []lotLink
	MoreLots      string
	Photo         *photoView
}

// maxTraceLinks caps the lots a product page reads and links.
const maxTraceLinks = 10

func (s *Server) productPage(c *gin.Context) {
	lang := s.traceLanguage(c)
	ctx := c.Request.Context()
	channel := traceability.NormalizeCode(c.Param("channel"))
	cc, m, err := s.channelView(ctx, channel)
	if err != nil {
		s.catalogMissing(c, lang, "cat_unknown_channel", err)
		return
	}
	sku := strings.ToUpper(strings.TrimSpace(c.Param("sku")))
	i, ok := m.bySKU[sku]
	if !ok {
		s.catalogMissing(c, lang, "cat_unknown_product", problem.New(problem.NotFound, "no product %s in %s", sku, channel))
		return
	}
	key := "product\x00" + sku + "\x00" + lang
	if b := m.page(key); b != nil {
		s.writeCatalogHTML(c, http.StatusOK, b)
		return
	}
	it := &m.items[i]
	p := it.product
	base := "/shop/" + url.PathEscape(channel)
	v := &productPageView{catalogHead: s.catalogHead(lang, base+"/"+url.PathEscape(sku), url.Values{})}
	t := v.T
	v.Shop, v.Base = m.shop, base
	v.Item = s.itemView(it, m, base, lang)
	v.Title = v.Item.Name + " · " + m.shop.Name
	for _, l := range languages {
		if n := p.Names.In(l); l != lang && n != v.Item.Name && !slices.Contains(v.OtherNames, n) {
			v.OtherNames = append(v.OtherNames, n)
		}
	}
	v.Description = p.Descriptions.In(lang)
	v.UnitSize = traceability.FormatQuantity(p.UnitSize, p.UnitSizeUnit)
	v.Coop = m.coops[p.Cooperative]
	if k := t["cat_coopkind_"+v.Coop.Kind]; k != "" {
		v.CoopKind = k
	}
	if id := p.Photo; catalog.ValidPhotoID(id) {
		w, h := catalog.PhotoSize(id)
		v.Photo = &photoView{URL: "/photos/" + id + ".jpg", W: w, H: h}
	}
	// The lots on the shelf, FEFO: their trace links, their producers and
	// the claims every one of them carries, with each certificate's status
	// today (a withdrawal shows at once).
	shelf := cc.shelves[sku]
	members := map[string]string{}
	var common []traceability.Claim
	for n, sl := range shelf.Lots {
		if n == 0 {
			common = slices.Clone(sl.Claims)
		} else {
			common = slices.DeleteFunc(common, func(cl traceability.Claim) bool {
				return !slices.ContainsFunc(sl.Claims, func(x traceability.Claim) bool { return x.Certification == cl.Certification })
			})
		}
		if n >= maxTraceLinks {
			continue
		}
		l, err := s.deps.Traceability.PublicLot(ctx, sl.Lot)
		if err != nil {
			continue // the shelf lists it, the lot is gone: nothing to link
		}
		v.Lots = append(v.Lots, lotLink{Code: l.Code, BestBefore: l.BestBefore, URL: s.deps.Codes.URL(traceability.RefOf(l, ""))})
		for _, o := range l.Origin {
			members[o.Member] = o.Gender
		}
	}
	if more := len(shelf.Lots) - maxTraceLinks; more > 0 {
		v.MoreLots = fmt.Sprintf(t["cat_more_lots"], more)
	}
	for _, g := range members {
		v.Producers++
		if g == "female" {
			v.Women++
		}
	}
	if v.Producers > 0 {
		v.ProducersText = fmt.Sprintf(t["cat_producers"], v.Producers, v.Women)
	}
	if len(common) > 0 {
		statuses, err := s.deps.Traceability.ClaimStatuses(ctx, traceability.Lot{Claims: common})
		if err != nil {
			s.renderFailure(c, err)
			return
		}
		for _, cl := range statuses {
			v.Claims = append(v.Claims, claimView{cl, t["tr_status_"+cl.Status]})
		}
	}
	if b, ok := s.renderCatalogTemplate(c, http.StatusOK, "product", "product_page", v); ok {
		m.keep(key, b)
	}
}
