// Package api is the JSON API of ../shared/API.md under /api/v1: one file
// per resource, and openapi.json, the OpenAPI document a running server
// serves.
//
// The document is generated, and checked three ways so it cannot drift:
//   - openapi.src.json is the hand-kept part: paths, summaries, query
//     parameters, which schema each answer and request body has, the error
//     statuses a handler returns, and the schemas of answers written as
//     gin.H. openapi_gen_test.go completes it into openapi.json: the
//     schemas of the Go types the handlers write and decode (reflected by
//     internal/oapigen with encoding/json's rules: json tags, omitempty and
//     omitzero → not required, time.Time → date-time, answers' objects
//     closed to undeclared properties, request bodies closed as
//     decodeJSON closes them), every templated path's parameters, and what
//     the middleware answers in front of every operation (401, 413 on a
//     body, 500, 503 with Retry-After; on creating requests the
//     Idempotency-Key header, 409 and 422, and Idempotent-Replayed on their
//     2xx answers). TestOpenAPIIsGenerated fails when the committed
//     openapi.json differs from what the generator makes: a field added to
//     a Go type fails until `go test ./web/api -run TestOpenAPIIsGenerated
//     -update` is run.
//   - web/webtest validates every /api/v1 answer of every test against the
//     document with kin-openapi (status declared, media type declared, body
//     matching its schema), so a handler that answers another type or
//     status fails the test that sees it; web's TestOpenAPICoversEveryRoute
//     checks every route is an operation whose operationId names its
//     handler.
//   - Redocly CLI lints the document (openapi_lint_test.go): no errors.
//
// Conventions: bodies are decoded strictly (decode.go: unknown fields,
// wrong types and trailing data → 400 naming the field); lists are never
// null; errors go through page.Fail, which answers the error shape of
// API.md from the one status table. The API authenticates with bearer
// tokens (web's middleware), and access is decided by the services. The
// API speaks English: messages are the domain errors' English text, CSV
// headers the English catalogue's.
package api

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/catalogcache"
	"github.com/terroir-coop/terroir/web/i18n"
)

// Network are the cooperatives and their members.
type Network interface {
	CreateCooperative(ctx context.Context, actor access.Actor, c traceability.Cooperative) (traceability.Cooperative, error)
	Cooperative(ctx context.Context, actor access.Actor, code string) (traceability.Cooperative, error)
	CooperativeName(ctx context.Context, code string) (traceability.Cooperative, error)
	Cooperatives(ctx context.Context, actor access.Actor, page mongodb.Page) ([]traceability.Cooperative, error)
	AddMember(ctx context.Context, actor access.Actor, coop string, m traceability.Member) (traceability.Member, error)
	Members(ctx context.Context, actor access.Actor, coop string, page mongodb.Page) ([]traceability.Member, error)
}

// Records are the cooperatives' parcels, harvests, lots and their audits.
type Records interface {
	AddParcel(ctx context.Context, actor access.Actor, coop string, np traceability.NewParcel) (traceability.Parcel, error)
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
	JustifyFlag(ctx context.Context, actor access.Actor, code, flagID, text string) (traceability.Lot, error)
	ClaimStatuses(ctx context.Context, l traceability.Lot) ([]traceability.ClaimStatus, error)
	Flags(ctx context.Context, actor access.Actor, coop string) ([]traceability.FlaggedLot, error)
	MassBalance(ctx context.Context, actor access.Actor, coop string, season int) ([]traceability.BalanceRow, error)
	CurrentSeason() int
	EPCIS(ctx context.Context, actor access.Actor, code string, codes traceability.Codes) (traceability.EPCISDocument, error)
	ScanAlerts(ctx context.Context, actor access.Actor, coop string) ([]traceability.ScanStat, error)
	// Issue 10: corrections and the season's EPCIS.
	CorrectLot(ctx context.Context, actor access.Actor, code string, q traceability.Quantity, reason string) (traceability.Lot, error)
	CorrectHarvest(ctx context.Context, actor access.Actor, coop, harvestID string, q traceability.Quantity, reason string) (traceability.Harvest, error)
	SeasonEPCIS(ctx context.Context, actor access.Actor, coop string, season int, codes traceability.Codes) (traceability.EPCISDocument, error)
}

// Certifications are the certificates lots claim.
type Certifications interface {
	CreateCertification(ctx context.Context, actor access.Actor, nc traceability.NewCertification) (traceability.Certification, error)
	SetCertificationStatus(ctx context.Context, actor access.Actor, id, status, reason string) (traceability.Certification, error)
	Certification(ctx context.Context, actor access.Actor, id string) (traceability.Certification, error)
	Certifications(ctx context.Context, actor access.Actor, holder string) ([]traceability.Certification, error)
}

// Catalog is the catalogue of products, their prices, shares and photos.
type Catalog interface {
	CreateProduct(ctx context.Context, actor access.Actor, np catalog.NewProduct) (catalog.Product, error)
	Product(ctx context.Context, sku string) (catalog.Product, error)
	Products(ctx context.Context, page mongodb.Page) ([]catalog.Product, error)
	SetPrice(ctx context.Context, actor access.Actor, sku, channel, channelCurrency string, m catalog.Money) (catalog.Product, error)
	SetShare(ctx context.Context, actor access.Actor, sku, channel string, sh catalog.Share) (catalog.Product, error)
	CheckPhotoEditor(ctx context.Context, actor access.Actor, sku string) (catalog.Product, error)
	SetPhoto(ctx context.Context, actor access.Actor, sku string, upload []byte) (catalog.Product, error)
}

// Channels are the channels' catalogues in memory (web/catalogcache).
type Channels interface {
	Channel(ctx context.Context, channel string) (*catalogcache.Channel, error)
}

// Shops are the sales points.
type Shops interface {
	CreateShop(ctx context.Context, actor access.Actor, sh shops.Shop) (shops.Shop, error)
	Shop(ctx context.Context, code string) (shops.Shop, error)
	Shops(ctx context.Context, page mongodb.Page) ([]shops.Shop, error)
}

// Stock is the shops' stock, transfers and sales.
type Stock interface {
	Receive(ctx context.Context, actor access.Actor, shop string, req shops.ReceiptRequest) (shops.Balance, error)
	Send(ctx context.Context, actor access.Actor, from, to string, lines []shops.LotUnits) (shops.Transfer, error)
	ReceiveTransfer(ctx context.Context, actor access.Actor, shop, id string, arrived []shops.LotUnits) (shops.Transfer, error)
	Transfers(ctx context.Context, actor access.Actor, shop, status string) ([]shops.Transfer, error)
	StockOf(ctx context.Context, actor access.Actor, shop string) ([]shops.StockLine, error)
	ShopShelves(ctx context.Context, actor access.Actor, shop string) ([]shops.Shelf, error)
	SetThreshold(ctx context.Context, actor access.Actor, shop, sku string, threshold int64) error
	Sell(ctx context.Context, actor access.Actor, shop string, req shops.SaleRequest) (shops.Sale, error)
	Sale(ctx context.Context, actor access.Actor, shop, id string) (shops.Sale, error)
	Return(ctx context.Context, actor access.Actor, shop string, req shops.ReturnRequest) (shops.Balance, error)
	Adjust(ctx context.Context, actor access.Actor, shop string, req shops.AdjustmentRequest) (shops.Balance, error)
	ApplyCount(ctx context.Context, actor access.Actor, shop string, lines []shops.CountLine, reason string) ([]shops.Movement, error)
	Movements(ctx context.Context, actor access.Actor, shop string, f shops.MovementFilter, page mongodb.Page) ([]shops.Movement, error)
	Holdings(ctx context.Context, actor access.Actor, coop string) ([]shops.Balance, error)
}

// Orders are the online orders, their payments and the settlement.
type Orders interface {
	Create(ctx context.Context, req orders.NewOrder, idemKey string) (orders.Placed, bool, error)
	Order(ctx context.Context, actor access.Actor, id, token string) (orders.Order, error)
	Orders(ctx context.Context, actor access.Actor, channel, status string, page mongodb.Page) ([]orders.Order, error)
	Refund(ctx context.Context, actor access.Actor, id string, restock bool, reason string) (orders.Order, error)
	Ship(ctx context.Context, actor access.Actor, id, tracking string) (orders.Order, error)
	Deliver(ctx context.Context, actor access.Actor, id string) (orders.Order, error)
	Cancel(ctx context.Context, actor access.Actor, id, reason string) (orders.Order, error)
	PackingList(ctx context.Context, actor access.Actor, id string) (orders.Order, error)
	Outbox(ctx context.Context, actor access.Actor, channel string, page mongodb.Page) ([]orders.Email, error)
	HandleEvent(ctx context.Context, ev orders.Event) error
	WebhookRefused(ctx context.Context, ev orders.Event, err error)
	SetUnpaidLimit(ctx context.Context, actor access.Actor, sku string, limit int64) (catalog.Product, error)
	Statement(ctx context.Context, actor access.Actor, coop, month string) (orders.Statement, error)
	CloseStatement(ctx context.Context, actor access.Actor, coop, month string) (orders.Statement, error)
	GrantAdvance(ctx context.Context, actor access.Actor, coop string, amount catalog.Money, ratePercent int64, note string) (orders.Advance, error)
	RecordPayout(ctx context.Context, actor access.Actor, coop, month string, amount catalog.Money, reference string) (orders.Payout, error)
}

// Accounts are the users and their credentials.
type Accounts interface {
	CreateUser(ctx context.Context, actor access.Actor, nu accounts.NewUser) (accounts.User, error)
	Users(ctx context.Context, actor access.Actor, page mongodb.Page) ([]accounts.User, error)
	Authenticate(ctx context.Context, email, password, clientAddr string) (accounts.User, error)
	IssueToken(ctx context.Context, u accounts.User, kind string, ttl time.Duration) (string, accounts.Token, error)
}

// Deps are what the API needs.
type Deps struct {
	Network        Network
	Records        Records
	Certifications Certifications
	Catalog        Catalog
	Channels       Channels
	Shops          Shops
	Stock          Stock
	Orders         Orders
	Accounts       Accounts
	MemberPay      MemberPay          // members' statements, payouts, impact (members.go)
	LotShares      LotShares          // the members behind a lot (members.go)
	Quality        Quality            // laboratory results (issue 18)
	Evidence       Evidence           // evidence files (issue 18)
	Consignments   Consignments       // export consignments (issue 18)
	Payments       orders.Payments    // verifies Stripe webhooks
	Codes          traceability.Codes // public URL and signer of trace codes
	Backups        Backups
	Bundle         *i18n.Bundle // the English catalogue: CSV headers, label texts (French)
	Version        string       // of the server, written into backups
	TokenTTL       time.Duration
	Now            func() time.Time
}

// Handlers answer the API's routes.
type Handlers struct{ d Deps }

// New returns the API's handlers.
func New(d Deps) *Handlers { return &Handlers{d: d} }

// pageOf reads ?limit= and ?offset= (defaults applied by the services).
func pageOf(c *gin.Context) mongodb.Page {
	limit, _ := strconv.Atoi(c.Query("limit"))
	offset, _ := strconv.Atoi(c.Query("offset"))
	return mongodb.Page{Limit: limit, Offset: offset}.Normalized()
}

// list renders a JSON list, never null.
func list[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}

// quantity is an amount in a base unit, in the API's shape.
type quantity struct {
	Amount int64             `json:"amount"`
	Unit   traceability.Unit `json:"unit"`
}
