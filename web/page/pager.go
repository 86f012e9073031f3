package page

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/mongodb"
)

// Size is how many items a list page shows.
const Size = 25

// Pager is the state of one paginated list on a page (the "pager" partial).
type Pager struct {
	HasPrev, HasNext bool
	PrevURL, NextURL string
	Prev, Next       string // the links' words, in the page's language
	param            string
	offset           int
}

// Window reads the list's offset parameter and asks for one item more than
// shown, so the page knows whether a next page exists without counting.
func Window(c *gin.Context, param string) (mongodb.Page, Pager) {
	off, _ := strconv.Atoi(c.Query(param))
	off = max(off, 0)
	l := Locale(c)
	return mongodb.Page{Limit: Size + 1, Offset: off}, Pager{param: param, offset: off, HasPrev: off > 0, Prev: l.T("previous"), Next: l.T("next")}
}

// Finish completes the pager once the list (n items read) is known.
func (p Pager) Finish(c *gin.Context, n int) Pager {
	p.HasNext = n > Size
	link := func(off int) string {
		q := c.Request.URL.Query()
		q.Set(p.param, strconv.Itoa(max(off, 0)))
		return c.Request.URL.Path + "?" + q.Encode()
	}
	p.PrevURL, p.NextURL = link(p.offset-Size), link(p.offset+Size)
	return p
}

// Trim drops the extra item Window asked for.
func Trim[T any](items []T) []T {
	if len(items) > Size {
		return items[:Size]
	}
	return items
}
