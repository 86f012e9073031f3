// Package backoffice is the network's working pages: the cooperatives'
// records (members, parcels, harvests, lots, transformations, packing,
// where their lots are, monthly statements), the auditors' views (flags,
// mass balance, plausibility), the shops' till and back-office (stock,
// receipts, transfers, adjustments, movements, counts), the EU platform's
// fulfilment (orders, packing lists, shipping, refunds, the outbox) and the
// network's administration.
//
// Every form follows one pattern: a refused submission shows the page again
// with the refusal, in the page's language, by the form that was sent
// (page.Keep) and everything typed kept; an accepted one redirects with a
// flash message (a catalogue key in a signed cookie). Access is decided by
// the services; the pages only hide the forms a visitor cannot use. Web's
// CSRF middleware has checked every form before a handler runs.
package backoffice

import (
	"context"
	"embed"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/catalogcache"
	"github.com/terroir-coop/terroir/web/page"
)

// Templates are the back-office's pages.
//
//go:embed templates
var Templates embed.FS

// Cooperatives are the network's cooperatives and their members.
type Cooperatives interface {
	CreateCooperative(ctx context.Context, actor access.Actor, c traceability.Cooperative) (traceability.Cooperative, error)
	Cooperative(ctx context.Context, actor access.Actor, code string) (traceability.Cooperative, error)
	CooperativeName(ctx context.Context, code string) (traceability.Cooperative, error)
	Cooperatives(ctx context.Context, actor access.Actor, page mongodb.Page) ([]traceability.Cooperative, error)
	AddMember(ctx context.Context, actor access.Actor, coop string, m traceability.Member) (traceability.Member, error)
	Members(ctx context.Context, actor access.Actor, coop string, page mongodb.Page) ([]traceability.Member, error)
}

// Records are a cooperative's parcels, harvests and lots.
type Records interface {
	AddParcel(ctx context.Context, actor access.Actor, coop string, np traceability.NewParcel) (traceability.Parcel, error)
	Parcel(ctx context.Context, actor access.Actor, coop, id string) (traceability.Parcel, error)
	Parcels(ctx context.Context, actor access.Actor, coop string, page mongodb.Page) ([]traceability.Parcel, error)
	AddHarvest(ctx context.Context, actor access.Actor, coop string, nh traceability.NewHarvest) (traceability.Harvest, error)
	Harvests(ctx context.Context, actor access.Actor, coop string, page mongodb.Page) ([]traceability.Harvest, error)
	ImportHarvests(ctx context.Context, actor access.Actor, coop string, r io.Reader) (int, error)
	Preview(ctx context.Context, actor access.Actor, coop string, kind traceability.ImportKind, filename string, r io.Reader, opts ...traceability.ImportOption) (traceability.ImportPreview, error)
	Apply(ctx context.Context, actor access.Actor, coop string, kind traceability.ImportKind, filename string, r io.Reader, opts ...traceability.ImportOption) (traceability.ImportPreview, error)
	CreateOriginLot(ctx context.Context, actor access.Actor, coop string, req traceability.NewOriginLot) (traceability.Lot, error)
	Transform(ctx context.Context, actor access.Actor, coop string, req traceability.NewTransformation) ([]traceability.Lot, error)
	Pack(ctx context.Context, actor access.Actor, coop string, req traceability.NewPacking) (traceability.Lot, error)
	Lot(ctx context.Context, actor access.Actor, code string) (traceability.Lot, error)
	Lots(ctx context.Context, actor access.Actor, coop string, page mongodb.Page) ([]traceability.Lot, error)
	PublicLot(ctx context.Context, code string) (traceability.Lot, error)
	JustifyFlag(ctx context.Context, actor access.Actor, code, flagID, text string) (traceability.Lot, error)
	ClaimStatuses(ctx context.Context, l traceability.Lot) ([]traceability.ClaimStatus, error)
	// Issue 10: corrections as events.
	CorrectLot(ctx context.Context, actor access.Actor, code string, q traceability.Quantity, reason string) (traceability.Lot, error)
	CorrectHarvest(ctx context.Context, actor access.Actor, coop, harvestID string, q traceability.Quantity, reason string) (traceability.Harvest, error)
}

// Audits are the auditors' views of a cooperative.
type Audits interface {
	Flags(ctx context.Context, actor access.Actor, coop string) ([]traceability.FlaggedLot, error)
	MassBalance(ctx context.Context, actor access.Actor, coop string, season int) ([]traceability.BalanceRow, error)
	CurrentSeason() int
}

// Shops are the sales points.
type Shops interface {
	CreateShop(ctx context.Context, actor access.Actor, sh shops.Shop) (shops.Shop, error)
	Shop(ctx context.Context, code string) (shops.Shop, error)
	Shops(ctx context.Context, page mongodb.Page) ([]shops.Shop, error)
	ManagedShop(ctx context.Context, actor access.Actor, code string) (shops.Shop, error)
	OperatedShop(ctx context.Context, actor access.Actor, code string) (shops.Shop, error)
}

// Stock is the shops' stock and sales.
type Stock interface {
	StockOf(ctx context.Context, actor access.Actor, shop string) ([]shops.StockLine, error)
	ShopShelves(ctx context.Context, actor access.Actor, shop string) ([]shops.Shelf, error)
	Receive(ctx context.Context, actor access.Actor, shop string, req shops.ReceiptRequest) (shops.Balance, error)
	SetThreshold(ctx context.Context, actor access.Actor, shop, sku string, threshold int64) error
	Send(ctx context.Context, actor access.Actor, from, to string, lines []shops.LotUnits) (shops.Transfer, error)
	ReceiveTransfer(ctx context.Context, actor access.Actor, shop, id string, arrived []shops.LotUnits) (shops.Transfer, error)
	Transfers(ctx context.Context, actor access.Actor, shop, status string) ([]shops.Transfer, error)
	Adjust(ctx context.Context, actor access.Actor, shop string, req shops.AdjustmentRequest) (shops.Balance, error)
	Movements(ctx context.Context, actor access.Actor, shop string, f shops.MovementFilter, page mongodb.Page) ([]shops.Movement, error)
	ApplyCount(ctx context.Context, actor access.Actor, shop string, lines []shops.CountLine, reason string) ([]shops.Movement, error)
	Sell(ctx context.Context, actor access.Actor, shop string, req shops.SaleRequest) (shops.Sale, error)
	Quote(ctx context.Context, shop string, lines []shops.Line) (shops.Quote, error)
	Sale(ctx context.Context, actor access.Actor, shop, id string) (shops.Sale, error)
	Holdings(ctx context.Context, actor access.Actor, coop string) ([]shops.Balance, error)
}

// Catalogue is the channels' catalogue in memory (web/catalogcache).
type Catalogue interface {
	Channel(ctx context.Context, channel string) (*catalogcache.Channel, error)
}

// Products reads the catalogue's products.
type Products interface {
	Product(ctx context.Context, sku string) (catalog.Product, error)
	Products(ctx context.Context, page mongodb.Page) ([]catalog.Product, error)
}

// Orders are the platform's online orders and the settlement statements.
type Orders interface {
	Order(ctx context.Context, actor access.Actor, id, token string) (orders.Order, error)
	Orders(ctx context.Context, actor access.Actor, channel, status string, page mongodb.Page) ([]orders.Order, error)
	Ship(ctx context.Context, actor access.Actor, id, tracking string) (orders.Order, error)
	Deliver(ctx context.Context, actor access.Actor, id string) (orders.Order, error)
	Cancel(ctx context.Context, actor access.Actor, id, reason string) (orders.Order, error)
	Refund(ctx context.Context, actor access.Actor, id string, restock bool, reason string) (orders.Order, error)
	Outbox(ctx context.Context, actor access.Actor, channel string, page mongodb.Page) ([]orders.Email, error)
	Statement(ctx context.Context, actor access.Actor, coop, month string) (orders.Statement, error)
	CloseStatement(ctx context.Context, actor access.Actor, coop, month string) (orders.Statement, error)
}

// Accounts are the network's users.
type Accounts interface {
	CreateUser(ctx context.Context, actor access.Actor, nu accounts.NewUser) (accounts.User, error)
	Users(ctx context.Context, actor access.Actor, page mongodb.Page) ([]accounts.User, error)
}

// Alerts are the payment alerts kept in memory (orders.AlertLog).
type Alerts interface {
	Recent() []orders.RecordedAlert
}

// Backups are what the store remembers of its last backup
// (mongodb.Store.LastBackup).
type Backups interface {
	LastBackup() mongodb.BackupStatus
}

// Deps are what the back-office needs.
type Deps struct {
	Cooperatives Cooperatives
	Records      Records
	Audits       Audits
	Shops        Shops
	Stock        Stock
	Catalogue    Catalogue
	Products     Products
	Orders       Orders
	Accounts     Accounts
	MemberPay    MemberPay          // members' pay and the impact report (pay.go, impact.go)
	Quality      Quality            // laboratory results (issue 18)
	Evidence     Evidence           // evidence files (issue 18)
	Consignments Consignments       // export consignments (issue 18)
	Codes        traceability.Codes // signs the trace links of receipts and order pages
	Alerts       Alerts             // nil: none shown
	Backups      Backups            // nil: nothing shown
	// BackupSchedule is the scheduled backups' settings (TERROIR_BACKUP_*);
	// nil when scheduled backups are off.
	BackupSchedule *mongodb.BackupSchedule
	Pages          *page.Renderer
	Now            func() time.Time
}

// Handlers answer the back-office's routes.
type Handlers struct{ d Deps }

// New returns the back-office's handlers.
func New(d Deps) *Handlers { return &Handlers{d: d} }

// done ends a form submission: on success a redirect to next with the flash
// message of key; a refusal the visitor can correct shows the form again
// (show); anything else — login needed, forbidden, a page that does not
// exist, an internal error — is answered by page.Fail.
func (h *Handlers) done(c *gin.Context, err error, which, next, key string, show func(*gin.Context, error, string), counts ...int64) {
	if err == nil {
		h.d.Pages.Redirect(c, next, key, counts...)
		return
	}
	pe := page.Problem(err)
	if pe == nil || pe.Code == problem.Unauthorized || pe.Code == problem.Forbidden || (pe.Code == problem.NotFound && pe.Field == "") {
		page.Fail(c, err)
		return
	}
	show(c, err, which)
}

// render shows a page that may carry a refused form: the form's status, or
// 200.
func (h *Handlers) render(c *gin.Context, p *page.Page, formErr error, which, name string, v any) {
	status := http.StatusOK
	if formErr != nil {
		st, ok := page.Keep(c, p, formErr, which)
		if !ok {
			return
		}
		status = st
	}
	h.d.Pages.Render(c, status, name, v)
}

// collect reads every page of a list, up to limit items, for a form's
// select or a join in Go (the store has no $lookup).
func collect[T any](limit int, list func(mongodb.Page) ([]T, error)) ([]T, error) {
	var out []T
	for off := 0; off < limit; off += mongodb.MaxPageSize {
		items, err := list(mongodb.Page{Limit: mongodb.MaxPageSize, Offset: off})
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(items) < mongodb.MaxPageSize {
			break
		}
	}
	return out, nil
}

// selectLimit bounds what a form's select lists; a cooperative of the
// network has tens of members and parcels, not thousands.
const selectLimit = 2000

// dateOf formats a time for the back-office pages.
func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func esc(s string) string { return url.PathEscape(s) }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
