package backoffice

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/currency"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/page"
)

type coopRow struct {
	traceability.Cooperative
	KindName string
}

type shopRow struct {
	shops.Shop
	KindName string
}

type userRow struct {
	accounts.User
	RoleName string
}

type adminView struct {
	page.Page
	Cooperatives []coopRow
	Shops        []shopRow
	Users        []userRow
	CoopPager    page.Pager
	ShopPager    page.Pager
	UserPager    page.Pager
	CoopKinds    []option
	ShopKinds    []option
	Currencies   []string
	Roles        []option
}

// AdminPage answers GET /admin: the network's cooperatives, shops and
// users, and the forms that add them. Admins only.
func (h *Handlers) AdminPage(c *gin.Context) { h.showAdmin(c, nil, "") }

// showAdmin renders the admin page, with a form's error and its values kept
// when a submission was refused, so nothing typed is lost.
func (h *Handlers) showAdmin(c *gin.Context, formErr error, which string) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	if err := actor.RequireAdmin(); err != nil {
		page.Fail(c, err)
		return
	}
	v := &adminView{Page: h.d.Pages.Page(c, l.T("admin")), Currencies: currency.Codes}
	for _, k := range traceability.CooperativeKinds {
		v.CoopKinds = append(v.CoopKinds, option{k, l.Term("coop_kind", k)})
	}
	for _, k := range []string{shops.KindBoutique, shops.KindPlatform} {
		v.ShopKinds = append(v.ShopKinds, option{k, l.Term("shop_kind", k)})
	}
	for _, r := range []access.Role{access.CoopManager, access.ShopManager, access.Auditor, access.Admin} {
		v.Roles = append(v.Roles, option{string(r), l.Term("role", string(r))})
	}
	cp, cpg := page.Window(c, "co")
	coops, err := h.d.Cooperatives.Cooperatives(ctx, actor, cp)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v.CoopPager = cpg.Finish(c, len(coops))
	for _, co := range page.Trim(coops) {
		v.Cooperatives = append(v.Cooperatives, coopRow{co, l.Term("coop_kind", co.Kind)})
	}
	sp, spg := page.Window(c, "so")
	list, err := h.d.Shops.Shops(ctx, sp)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v.ShopPager = spg.Finish(c, len(list))
	for _, sh := range page.Trim(list) {
		v.Shops = append(v.Shops, shopRow{sh, l.Term("shop_kind", sh.Kind)})
	}
	up, upg := page.Window(c, "uo")
	users, err := h.d.Accounts.Users(ctx, actor, up)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v.UserPager = upg.Finish(c, len(users))
	for _, u := range page.Trim(users) {
		v.Users = append(v.Users, userRow{u, l.Term("role", string(u.Role))})
	}
	h.render(c, &v.Page, formErr, which, "backoffice/admin", v)
}

// AdminCreateCooperative answers POST /admin/cooperatives.
func (h *Handlers) AdminCreateCooperative(c *gin.Context) {
	_, err := h.d.Cooperatives.CreateCooperative(c.Request.Context(), page.Actor(c), traceability.Cooperative{
		Code: c.PostForm("code"), Name: c.PostForm("name"), Kind: c.PostForm("kind"),
		Commune: c.PostForm("commune"), Province: c.PostForm("province"), Group: c.PostForm("group"),
	})
	h.done(c, err, "cooperative", "/admin", "saved", h.showAdmin)
}

// AdminCreateShop answers POST /admin/shops.
func (h *Handlers) AdminCreateShop(c *gin.Context) {
	_, err := h.d.Shops.CreateShop(c.Request.Context(), page.Actor(c), shops.Shop{
		Code: c.PostForm("code"), Name: c.PostForm("name"), City: c.PostForm("city"),
		Currency: c.PostForm("currency"), Kind: c.PostForm("kind"),
	})
	h.done(c, err, "shop", "/admin", "saved", h.showAdmin)
}

// AdminCreateUser answers POST /admin/users.
func (h *Handlers) AdminCreateUser(c *gin.Context) {
	var scope []string
	for _, x := range strings.Split(c.PostForm("scope"), ",") {
		if x = strings.TrimSpace(x); x != "" {
			scope = append(scope, x)
		}
	}
	_, err := h.d.Accounts.CreateUser(c.Request.Context(), page.Actor(c), accounts.NewUser{
		Email: c.PostForm("email"), Password: c.PostForm("password"),
		Role: access.Role(c.PostForm("role")), Org: c.PostForm("org"), Scope: scope,
	})
	h.done(c, err, "user", "/admin", "saved", h.showAdmin)
}

// homeView is the home page.
type homeView struct {
	page.Page
	Auditor bool
	Audits  []string // the cooperatives an auditor reads
}

// Home answers GET /: what Terroir is, and an auditor's way into the
// cooperatives it audits.
func (h *Handlers) Home(c *gin.Context) {
	actor := page.Actor(c)
	v := &homeView{Page: h.d.Pages.Page(c, ""), Auditor: actor.Role == access.Auditor}
	for _, coop := range actor.Scope {
		if actor.ReadCoop(coop) == nil {
			v.Audits = append(v.Audits, coop)
		}
	}
	h.d.Pages.Render(c, http.StatusOK, "backoffice/home", v)
}
