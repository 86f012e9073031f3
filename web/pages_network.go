package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
)

const pageSize = 25

// pager is the state of one paginated list on a page.
type pager struct {
	Param            string // query parameter holding the offset
	Offset           int
	HasPrev          bool
	HasNext          bool
	PrevURL, NextURL string
}

// pageWindow reads an offset parameter and asks for one item more than
// shown, so the page knows whether a next page exists without counting.
func pageWindow(c *gin.Context, param string) (traceability.Page, pager) {
	off, _ := strconv.Atoi(c.Query(param))
	if off < 0 {
		off = 0
	}
	return traceability.Page{Limit: pageSize + 1, Offset: off}, pager{Param: param, Offset: off, HasPrev: off > 0}
}

func (p pager) finish(c *gin.Context, n int) pager {
	p.HasNext = n > pageSize
	link := func(off int) string {
		q := c.Request.URL.Query()
		q.Del("flash")
		q.Set(p.Param, strconv.Itoa(max(off, 0)))
		return c.Request.URL.Path + "?" + q.Encode()
	}
	p.PrevURL, p.NextURL = link(p.Offset-pageSize), link(p.Offset+pageSize)
	return p
}

func trim[T any](items []T) []T {
	if len(items) > pageSize {
		return items[:pageSize]
	}
	return items
}

type adminView struct {
	Cooperatives []traceability.Cooperative
	Shops        []shops.Shop
	Users        []accounts.User
	CoopPager    pager
	ShopPager    pager
	UserPager    pager
	CoopKinds    []string
	Roles        []access.Role
}

func (s *Server) adminView(c *gin.Context) (*adminView, error) {
	ctx, actor := c.Request.Context(), actorOf(c)
	if err := actor.RequireAdmin(); err != nil {
		return nil, err
	}
	v := &adminView{CoopKinds: traceability.CooperativeKinds,
		Roles: []access.Role{access.CoopManager, access.ShopManager, access.Auditor, access.Admin}}
	var err error
	cp, cpg := pageWindow(c, "co")
	if v.Cooperatives, err = s.deps.Traceability.Cooperatives(ctx, actor, cp); err != nil {
		return nil, err
	}
	v.CoopPager, v.Cooperatives = cpg.finish(c, len(v.Cooperatives)), trim(v.Cooperatives)
	sp, spg := pageWindow(c, "so")
	if v.Shops, err = s.deps.Shops.Shops(ctx, sp); err != nil {
		return nil, err
	}
	v.ShopPager, v.Shops = spg.finish(c, len(v.Shops)), trim(v.Shops)
	up, upg := pageWindow(c, "uo")
	if v.Users, err = s.deps.Accounts.Users(ctx, actor, up); err != nil {
		return nil, err
	}
	v.UserPager, v.Users = upg.finish(c, len(v.Users)), trim(v.Users)
	return v, nil
}

func (s *Server) adminPage(c *gin.Context) {
	s.showAdmin(c, http.StatusOK, nil, "")
}

// showAdmin renders the admin page, with a form's error and its values kept
// when a submission was refused, so nothing typed is lost.
func (s *Server) showAdmin(c *gin.Context, status int, formErr error, form string) {
	v, err := s.adminView(c)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	d := s.data(c, "admin", v)
	if formErr != nil {
		p, ok := problem.As(formErr)
		if !ok {
			s.pageFail(c, formErr)
			return
		}
		d.Error = p
		d.Form["which"] = form
		for k, vals := range c.Request.PostForm {
			if k != "password" && k != csrfField && len(vals) > 0 {
				d.Form[k] = vals[0]
			}
		}
		status, _ = classify(c, formErr)
	}
	s.render(c, status, "admin", d)
}

func (s *Server) adminCreateCooperative(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	_, err := s.deps.Traceability.CreateCooperative(c.Request.Context(), actorOf(c), traceability.Cooperative{
		Code: c.PostForm("code"), Name: c.PostForm("name"), Kind: c.PostForm("kind"),
		Commune: c.PostForm("commune"), Province: c.PostForm("province"), Group: c.PostForm("group"),
	})
	s.afterAdminForm(c, err, "cooperative")
}

func (s *Server) adminCreateShop(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	_, err := s.deps.Shops.CreateShop(c.Request.Context(), actorOf(c), shops.Shop{
		Code: c.PostForm("code"), Name: c.PostForm("name"), City: c.PostForm("city"),
		Currency: c.PostForm("currency"), Kind: c.PostForm("kind"),
	})
	s.afterAdminForm(c, err, "shop")
}

func (s *Server) adminCreateUser(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	var scope []string
	for _, x := range strings.Split(c.PostForm("scope"), ",") {
		if x = strings.TrimSpace(x); x != "" {
			scope = append(scope, x)
		}
	}
	_, err := s.deps.Accounts.CreateUser(c.Request.Context(), actorOf(c), accounts.NewUser{
		Email: c.PostForm("email"), Password: c.PostForm("password"),
		Role: access.Role(c.PostForm("role")), Org: c.PostForm("org"), Scope: scope,
	})
	s.afterAdminForm(c, err, "user")
}

func (s *Server) afterAdminForm(c *gin.Context, err error, form string) {
	switch code := problem.CodeOf(err); {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/admin?flash="+url.QueryEscape(messages[langOf(c)]["saved"]))
	case code == problem.Unauthorized || code == problem.Forbidden || code == "":
		s.pageFail(c, err)
	default:
		s.showAdmin(c, 0, err, form)
	}
}

type coopView struct {
	Cooperative traceability.Cooperative
	Members     []traceability.Member
	Pager       pager
	CanManage   bool
}

func (s *Server) coopPage(c *gin.Context) { s.showCoop(c, nil) }

func (s *Server) showCoop(c *gin.Context, formErr error) {
	ctx, actor := c.Request.Context(), actorOf(c)
	coop, err := s.deps.Traceability.Cooperative(ctx, actor, c.Param("coop"))
	if err != nil {
		s.pageFail(c, err)
		return
	}
	p, pg := pageWindow(c, "mo")
	members, err := s.deps.Traceability.Members(ctx, actor, coop.Code, p)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &coopView{Cooperative: coop, Members: trim(members), Pager: pg.finish(c, len(members)),
		CanManage: actor.ManageCoop(coop.Code) == nil}
	d := s.data(c, "my_cooperative", v)
	status := http.StatusOK
	if formErr != nil {
		pe, ok := problem.As(formErr)
		if !ok {
			s.pageFail(c, formErr)
			return
		}
		d.Error = pe
		for k, vals := range c.Request.PostForm {
			if k != csrfField && len(vals) > 0 {
				d.Form[k] = vals[0]
			}
		}
		status, _ = classify(c, formErr)
	}
	s.render(c, status, "coop", d)
}

func (s *Server) coopAddMember(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	coop := traceability.NormalizeCode(c.Param("coop"))
	_, err := s.deps.Traceability.AddMember(c.Request.Context(), actorOf(c), coop, traceability.Member{
		Name: c.PostForm("name"), Gender: c.PostForm("gender"), Village: c.PostForm("village"),
	})
	switch code := problem.CodeOf(err); {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/coop/"+url.PathEscape(coop)+"?flash="+url.QueryEscape(messages[langOf(c)]["saved"]))
	case code == problem.Unauthorized || code == problem.Forbidden || code == problem.NotFound || code == "":
		s.pageFail(c, err)
	default:
		s.showCoop(c, err)
	}
}
