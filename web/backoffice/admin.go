package backoffice

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/currency"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/i18n"
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
	Alerts       []alertRow
	Backup       *backupView
}

// backupView is the backups' state as the admin page shows it.
type backupView struct {
	Schedule                  string // the schedule in words, "" when scheduled backups are off
	Done                      bool   // a backup succeeded since start (or was found in the directory)
	At, File, Size, Documents string
	Failed                    bool
	FailedAt, Error           string
	Total, Failures           int64
}

func (h *Handlers) backupState(l *i18n.Locale) *backupView {
	if h.d.Backups == nil {
		return nil
	}
	b := h.d.Backups.LastBackup()
	v := &backupView{Done: !b.At.IsZero(), File: b.File, Failed: b.Failed, Error: b.Error, Total: b.Total, Failures: b.Failures}
	if sc := h.d.BackupSchedule; sc != nil {
		every := l.T("backup_every_minutes", int(sc.Every/time.Minute))
		if sc.Every%time.Hour == 0 {
			every = l.T("backup_every_hours", int(sc.Every/time.Hour))
		}
		v.Schedule = l.T("backup_schedule", every, sc.Dir, sc.Keep)
	}
	if v.Done {
		v.At, v.Size, v.Documents = dateOf(b.At)+" UTC", sizeOf(l, b.Bytes), l.Number(b.Documents)
	}
	if b.Failed {
		v.FailedAt = dateOf(b.FailedAt) + " UTC"
	}
	return v
}

// sizeOf writes a size in kB below a megabyte, in MB with one decimal
// above, in the language's digits.
func sizeOf(l *i18n.Locale, bytes int64) string {
	if bytes < 1<<20 {
		return l.T("size_kb", (bytes+1023)>>10)
	}
	tenths := bytes * 10 >> 20
	dec, _ := l.Separators()
	return l.T("size_mb", l.Number(tenths/10)+dec+l.Number(tenths%10))
}

// alertRow is a payment alert as the admin page shows it: its kind and what
// to do, named in the page's language; the order and Stripe event it is
// about, to look them up.
type alertRow struct {
	At, KindName, Explain, OrderID, EventID string
}

// alertsShown is how many recent alerts the admin page lists.
const alertsShown = 20

func (h *Handlers) alertRows(l *i18n.Locale) []alertRow {
	if h.d.Alerts == nil {
		return nil
	}
	var out []alertRow
	for _, a := range h.d.Alerts.Recent() {
		if len(out) == alertsShown {
			break
		}
		out = append(out, alertRow{At: dateOf(a.At) + " UTC", KindName: l.Term("alert_kind", a.Kind), Explain: l.Term("alert_explain", a.Kind),
			OrderID: a.OrderID, EventID: a.EventID})
	}
	return out
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
	v := &adminView{Page: h.d.Pages.Page(c, l.T("admin")), Currencies: currency.Codes, Alerts: h.alertRows(l),
		Backup: h.backupState(l)}
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
	Auditor  bool
	Audits   []string // the cooperatives an auditor reads
	SignedIn bool
	Work     string       // where the signed-in visitor's work is ("" when it is this page)
	Shops    []shops.Shop // the shops and the platform, whose catalogues are public
	Code     string       // the code typed in "check a code", when it was refused
}

// Home answers GET /: what Terroir is and where to go from here — the
// shops' and the EU platform's catalogues, "check a code" (the code printed
// under a QR), the sign-in, or a signed-in visitor's own work, and an
// auditor's way into the cooperatives it audits.
func (h *Handlers) Home(c *gin.Context) {
	actor := page.Actor(c)
	v := &homeView{Page: h.d.Pages.Page(c, ""), Auditor: actor.Role == access.Auditor, SignedIn: actor.UserID != ""}
	if v.SignedIn {
		if w := h.Landing(c.Request.Context(), actor); w != "/" {
			v.Work = w
		}
	}
	for _, coop := range actor.Scope {
		if actor.ReadCoop(coop) == nil {
			v.Audits = append(v.Audits, coop)
		}
	}
	list, err := h.d.Shops.Shops(c.Request.Context(), mongodb.Page{Limit: mongodb.MaxPageSize})
	if err != nil {
		page.Fail(c, err)
		return
	}
	// The platform first: it is the one most visitors from afar look for.
	slices.SortStableFunc(list, func(a, b shops.Shop) int {
		return cmp.Compare(boolRank(a.Kind != shops.KindPlatform), boolRank(b.Kind != shops.KindPlatform))
	})
	v.Shops = list
	h.d.Pages.Render(c, http.StatusOK, "backoffice/home", v)
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Landing is where a user goes after signing in: page.Home, except that the
// EU platform's manager lands on the orders to pack rather than on the
// shop's stock.
func (h *Handlers) Landing(ctx context.Context, a access.Actor) string {
	next := page.Home(a)
	if a.Org != "" && next == "/shop-admin/"+url.PathEscape(a.Org) {
		if sh, err := h.d.Shops.Shop(ctx, a.Org); err == nil && sh.Kind == shops.KindPlatform {
			return "/platform/" + url.PathEscape(a.Org)
		}
	}
	return next
}

// CheckCode answers GET /check?code=…: the code printed under a QR, typed
// by hand, opens its trace page (which says plainly when a well-formed code
// is not one of Terroir's lots). A code whose check character does not
// match — a mistyped character — is refused on the home page, with what was
// typed kept, rather than answered "unknown code": the visitor has made a
// typing mistake, not found a counterfeit.
func (h *Handlers) CheckCode(c *gin.Context) {
	typed := strings.TrimSpace(c.Query("code"))
	code := traceability.NormalizeLotCode(typed)
	var refusal error
	switch {
	case code == "":
		refusal = problem.Field("code", "type the code printed under the QR code")
	case !traceability.ValidLotCode(code):
		refusal = problem.Field("code", "%s is not a code printed on a Terroir label: check each character", typed)
	}
	if refusal != nil {
		actor := page.Actor(c)
		v := &homeView{Page: h.d.Pages.Page(c, ""), SignedIn: actor.UserID != ""}
		v.Form.Which, v.Form.Invalid = "check", "code"
		v.Form.Set("code", typed)
		v.Form.Error = v.L.Message(refusal)
		h.d.Pages.Render(c, http.StatusBadRequest, "backoffice/home", v)
		return
	}
	c.Redirect(http.StatusSeeOther, "/t/"+url.PathEscape(code))
}
