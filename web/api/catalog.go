package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/web/catalogcache"
	"github.com/terroir-coop/terroir/web/page"
)

// Catalog answers GET /api/v1/catalog?channel=: the public catalogue of a
// channel, with filters kind, cooperative, claim, q (a name in any
// language) and pagination (limit, offset). Served from memory.
func (h *Handlers) Catalog(c *gin.Context) {
	items, err := h.catalogItems(c)
	if err != nil {
		page.Fail(c, err)
		return
	}
	p := pageOf(c)
	end := min(p.Offset+p.Limit, len(items))
	if p.Offset > len(items) {
		p.Offset = len(items)
	}
	c.Header("X-Total-Count", strconv.Itoa(len(items)))
	c.JSON(http.StatusOK, items[p.Offset:end])
}

// catalogItems applies the query's channel and filters.
func (h *Handlers) catalogItems(c *gin.Context) ([]catalogcache.Item, error) {
	channel := id.NormalizeCode(c.Query("channel"))
	if channel == "" {
		return nil, problem.Field("channel", "is required (a shop code such as TAROUDANNT or EU-PLATFORM)")
	}
	ch, err := h.d.Channels.Channel(c.Request.Context(), channel)
	if err != nil {
		return nil, err
	}
	all := ch.Items()
	kind, coop, claim, q := c.Query("kind"), id.NormalizeCode(c.Query("cooperative")), c.Query("claim"), strings.TrimSpace(c.Query("q"))
	if kind == "" && coop == "" && claim == "" && q == "" {
		return all, nil // shared and read-only: no copy of the whole catalogue per request
	}
	out := all[:0:0]
	for _, it := range all {
		if it.Matches(kind, coop, claim, q) {
			out = append(out, it)
		}
	}
	return out, nil
}
