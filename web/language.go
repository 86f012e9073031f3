package web

import (
	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/web/page"
)

const langCookie = "terroir_lang"

// language picks the page language: ?lang= (remembered in a cookie), then
// the cookie, then Accept-Language with its quality values, then French
// (i18n.Bundle.Negotiate). It reads no session, so the public trace and
// catalogue pages use it too.
func (s *Server) language(c *gin.Context) {
	q := c.Query("lang")
	cookie, _ := c.Cookie(langCookie)
	l := s.bundle.Negotiate(q, cookie, c.GetHeader("Accept-Language"))
	if q != "" && l.Code() == q && cookie != q {
		s.pages.SetCookie(c, langCookie, q, 365*24*3600)
	}
	page.SetLocale(c, l)
	c.Next()
}
