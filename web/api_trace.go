package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

type parcelRequest struct {
	Name     string                `json:"name"`
	Member   string                `json:"member"`
	Commune  string                `json:"commune"`
	AreaM2   int64                 `json:"area_m2"`
	Crop     string                `json:"crop"`
	Location traceability.Geometry `json:"location"`
}

func (s *Server) addParcel(c *gin.Context) {
	var req parcelRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	p, err := s.deps.Traceability.AddParcel(c.Request.Context(), actorOf(c), c.Param("coop"), traceability.NewParcel{
		Name: req.Name, Member: req.Member, Commune: req.Commune, AreaM2: req.AreaM2, Crop: req.Crop, Location: req.Location,
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, p)
}

func (s *Server) listParcels(c *gin.Context) {
	ps, err := s.deps.Traceability.Parcels(c.Request.Context(), actorOf(c), c.Param("coop"), pageOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(ps))
}

type harvestRequest struct {
	Parcel   string                `json:"parcel"`
	Member   string                `json:"member"`
	Date     string                `json:"date"`
	Crop     string                `json:"crop"`
	Quantity traceability.Quantity `json:"quantity"`
}

// harvestView shows a harvest's quantity in the API's quantity shape.
type harvestView struct {
	traceability.Harvest
	Quantity quantityView `json:"quantity"`
}

type quantityView struct {
	Amount int64             `json:"amount"`
	Unit   traceability.Unit `json:"unit"`
}

func (s *Server) addHarvest(c *gin.Context) {
	var req harvestRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	h, err := s.deps.Traceability.AddHarvest(c.Request.Context(), actorOf(c), c.Param("coop"), traceability.NewHarvest{
		Parcel: req.Parcel, Member: req.Member, Date: req.Date, Crop: req.Crop, Quantity: req.Quantity,
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, harvestView{h, quantityView{h.Quantity, h.Unit}})
}

func (s *Server) listHarvests(c *gin.Context) {
	hs, err := s.deps.Traceability.Harvests(c.Request.Context(), actorOf(c), c.Param("coop"), pageOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]harvestView, 0, len(hs))
	for _, h := range hs {
		out = append(out, harvestView{h, quantityView{h.Quantity, h.Unit}})
	}
	c.JSON(http.StatusOK, out)
}

// importHarvests takes a CSV body (text/csv) of harvests: all rows or none.
func (s *Server) importHarvests(c *gin.Context) {
	n, err := s.deps.Traceability.ImportHarvests(c.Request.Context(), actorOf(c), c.Param("coop"), c.Request.Body)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"imported": n})
}

type originLotRequest struct {
	ProductKind string   `json:"product_kind"`
	Harvests    []string `json:"harvests"`
}

func (s *Server) createLot(c *gin.Context) {
	var req originLotRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	l, err := s.deps.Traceability.CreateOriginLot(c.Request.Context(), actorOf(c), c.Param("coop"),
		traceability.NewOriginLot{ProductKind: req.ProductKind, Harvests: req.Harvests})
	if err != nil {
		fail(c, err)
		return
	}
	s.respondLot(c, http.StatusCreated, l)
}

type transformationRequest struct {
	Process string `json:"process"`
	Inputs  []struct {
		Lot      string                `json:"lot"`
		Quantity traceability.Quantity `json:"quantity"`
	} `json:"inputs"`
	Outputs []struct {
		ProductKind string                `json:"product_kind"`
		Quantity    traceability.Quantity `json:"quantity"`
	} `json:"outputs"`
	Note string `json:"note"`
}

func (s *Server) createTransformation(c *gin.Context) {
	var req transformationRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	t := traceability.NewTransformation{Process: req.Process, Note: req.Note}
	for _, in := range req.Inputs {
		t.Inputs = append(t.Inputs, traceability.LotInput{Lot: in.Lot, Quantity: in.Quantity})
	}
	for _, out := range req.Outputs {
		t.Outputs = append(t.Outputs, traceability.LotOutput{ProductKind: out.ProductKind, Quantity: out.Quantity})
	}
	lots, err := s.deps.Traceability.Transform(c.Request.Context(), actorOf(c), c.Param("coop"), t)
	if err != nil {
		fail(c, err)
		return
	}
	for _, in := range t.Inputs {
		s.traces.invalidate(traceability.NormalizeLotCode(in.Lot))
	}
	views := make([]lotView, 0, len(lots))
	for _, l := range lots {
		v, err := s.lotView(c, l)
		if err != nil {
			fail(c, err)
			return
		}
		views = append(views, v)
	}
	c.JSON(http.StatusCreated, gin.H{"outputs": views})
}

type packingRequest struct {
	Lot        string `json:"lot"`
	SKU        string `json:"sku"`
	Units      int64  `json:"units"`
	BestBefore string `json:"best_before"`
	Serials    bool   `json:"serials"`
}

func (s *Server) createPacking(c *gin.Context) {
	var req packingRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	// Access first: who may not pack for this cooperative is refused as
	// such, and learns nothing of the catalogue.
	if err := actorOf(c).ManageCoop(traceability.NormalizeCode(c.Param("coop"))); err != nil {
		fail(c, err)
		return
	}
	if req.SKU == "" {
		fail(c, problem.Field("sku", "is required"))
		return
	}
	p, err := s.deps.Catalog.Product(c.Request.Context(), req.SKU)
	if err != nil {
		if problem.CodeOf(err) == problem.NotFound {
			err = problem.Field("sku", "no product %s in the catalogue", req.SKU)
		}
		fail(c, err)
		return
	}
	l, err := s.deps.Traceability.Pack(c.Request.Context(), actorOf(c), c.Param("coop"), traceability.NewPacking{
		Lot: req.Lot, Units: req.Units, BestBefore: req.BestBefore, Product: p.Packed(), Serials: req.Serials,
	})
	if err != nil {
		fail(c, err)
		return
	}
	s.traces.invalidate(traceability.NormalizeLotCode(req.Lot))
	s.respondLot(c, http.StatusCreated, l)
}

// lotView is a lot as the API shows it: quantities in the API's shape and
// claims with their certificate's status today.
type lotView struct {
	traceability.Lot
	Quantity  quantityView               `json:"quantity"`
	Available quantityView               `json:"available"`
	UnitSize  *quantityView              `json:"unit_size,omitempty"`
	Claims    []traceability.ClaimStatus `json:"claims"`
	OpenFlags int                        `json:"open_flags"`
}

func (s *Server) lotView(c *gin.Context, l traceability.Lot) (lotView, error) {
	claims, err := s.deps.Traceability.ClaimStatuses(c.Request.Context(), l)
	if err != nil {
		return lotView{}, err
	}
	v := lotView{Lot: l, Quantity: quantityView{l.Quantity, l.Unit}, Available: quantityView{l.Available, l.Unit},
		Claims: claims, OpenFlags: l.OpenFlags()}
	if l.UnitSize > 0 {
		v.UnitSize = &quantityView{l.UnitSize, l.UnitSizeOf}
	}
	if v.Origin == nil {
		v.Origin = []traceability.OriginLine{}
	}
	return v, nil
}

func (s *Server) respondLot(c *gin.Context, status int, l traceability.Lot) {
	v, err := s.lotView(c, l)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(status, v)
}

func (s *Server) getLot(c *gin.Context) {
	l, err := s.deps.Traceability.Lot(c.Request.Context(), actorOf(c), c.Param("code"))
	if err != nil {
		fail(c, err)
		return
	}
	s.respondLot(c, http.StatusOK, l)
}

// lotSummary is a lot in a list: no events or origin lines.
type lotSummary struct {
	Code        string       `json:"code"`
	ProductKind string       `json:"product_kind"`
	Source      string       `json:"source"`
	Quantity    quantityView `json:"quantity"`
	Available   quantityView `json:"available"`
	SKU         string       `json:"sku,omitempty"`
	BestBefore  string       `json:"best_before,omitempty"`
	OpenFlags   int          `json:"open_flags"`
	CreatedAt   time.Time    `json:"created_at"`
}

func summarize(l traceability.Lot) lotSummary {
	return lotSummary{Code: l.Code, ProductKind: l.ProductKind, Source: l.Source, Quantity: quantityView{l.Quantity, l.Unit},
		Available: quantityView{l.Available, l.Unit}, SKU: l.SKU, BestBefore: l.BestBefore, OpenFlags: l.OpenFlags(), CreatedAt: l.CreatedAt}
}

func (s *Server) listLots(c *gin.Context) {
	lots, err := s.deps.Traceability.Lots(c.Request.Context(), actorOf(c), c.Param("coop"), pageOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]lotSummary, 0, len(lots))
	for _, l := range lots {
		out = append(out, summarize(l))
	}
	c.JSON(http.StatusOK, out)
}

type justificationRequest struct {
	Justification string `json:"justification"`
}

func (s *Server) justifyFlag(c *gin.Context) {
	var req justificationRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	l, err := s.deps.Traceability.JustifyFlag(c.Request.Context(), actorOf(c), c.Param("code"), c.Param("flag"), req.Justification)
	if err != nil {
		fail(c, err)
		return
	}
	s.traces.invalidate(l.Code)
	s.respondLot(c, http.StatusOK, l)
}

func (s *Server) listFlags(c *gin.Context) {
	fl, err := s.deps.Traceability.Flags(c.Request.Context(), actorOf(c), c.Param("coop"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, fl)
}

func (s *Server) seasonOf(c *gin.Context) (int, error) {
	if v := c.Query("season"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 2000 || y > 2100 {
			return 0, problem.Field("season", "must be a year such as 2026 (the season from 1 September)")
		}
		return y, nil
	}
	return s.deps.Traceability.CurrentSeason(), nil
}

// massBalance answers JSON, or CSV with ?format=csv (for auditors' spreadsheets).
func (s *Server) massBalance(c *gin.Context) {
	season, err := s.seasonOf(c)
	if err != nil {
		fail(c, err)
		return
	}
	rows, err := s.deps.Traceability.MassBalance(c.Request.Context(), actorOf(c), c.Param("coop"), season)
	if err != nil {
		fail(c, err)
		return
	}
	if c.Query("format") != "csv" {
		c.JSON(http.StatusOK, gin.H{"cooperative": traceability.NormalizeCode(c.Param("coop")), "season": season, "rows": rows})
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="mass-balance-%s-%d.csv"`, traceability.NormalizeCode(c.Param("coop")), season))
	writeBalanceCSV(c.Writer, rows)
}

func writeBalanceCSV(w http.ResponseWriter, rows []traceability.BalanceRow) {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"product_kind", "unit", "lots", "harvested", "produced", "transformed", "packed", "shipped", "adjusted", "on_hand", "losses", "yield_percent"})
	for _, r := range rows {
		i := func(v int64) string { return strconv.FormatInt(v, 10) }
		_ = cw.Write([]string{r.ProductKind, string(r.Unit), strconv.Itoa(r.Lots), i(r.Harvested), i(r.Produced), i(r.Transformed),
			i(r.Packed), i(r.Shipped), i(r.Adjusted), i(r.OnHand), i(r.Losses), r.YieldPercent})
	}
	cw.Flush()
}

type certificationRequest struct {
	Holder       string   `json:"holder"`
	Scheme       string   `json:"scheme"`
	Body         string   `json:"body"`
	BodyCode     string   `json:"body_code"`
	Number       string   `json:"number"`
	ValidFrom    string   `json:"valid_from"`
	ValidTo      string   `json:"valid_to"`
	ProductKinds []string `json:"product_kinds"`
	Parcels      []string `json:"parcels"`
}

func (s *Server) createCertification(c *gin.Context) {
	var req certificationRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	cert, err := s.deps.Traceability.CreateCertification(c.Request.Context(), actorOf(c), traceability.NewCertification{
		Holder: req.Holder, Scheme: req.Scheme, Body: req.Body, BodyCode: req.BodyCode, Number: req.Number,
		ValidFrom: req.ValidFrom, ValidTo: req.ValidTo, ProductKinds: req.ProductKinds, Parcels: req.Parcels,
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, cert)
}

type statusRequest struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func (s *Server) setCertificationStatus(c *gin.Context) {
	var req statusRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	cert, err := s.deps.Traceability.SetCertificationStatus(c.Request.Context(), actorOf(c), c.Param("id"), req.Status, req.Reason)
	if err != nil {
		fail(c, err)
		return
	}
	s.traces.clear() // every lot claiming it shows the new status at once
	s.catalog.dropAll()
	c.JSON(http.StatusOK, cert)
}

func (s *Server) getCertification(c *gin.Context) {
	cert, err := s.deps.Traceability.Certification(c.Request.Context(), actorOf(c), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cert)
}

func (s *Server) listCertifications(c *gin.Context) {
	cs, err := s.deps.Traceability.Certifications(c.Request.Context(), actorOf(c), c.Param("coop"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(cs))
}

type productRequest struct {
	SKU         string                `json:"sku"`
	Names       catalog.Names         `json:"names"`
	Kind        string                `json:"kind"`
	Cooperative string                `json:"cooperative"`
	UnitSize    traceability.Quantity `json:"unit_size"`
	GTIN        string                `json:"gtin"`
}

// productView shows a product's unit size in the API's quantity shape.
type productView struct {
	catalog.Product
	UnitSize quantityView `json:"unit_size"`
}

func (s *Server) createProduct(c *gin.Context) {
	var req productRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	p, err := s.deps.Catalog.CreateProduct(c.Request.Context(), actorOf(c), catalog.NewProduct{
		SKU: req.SKU, Names: req.Names, Kind: req.Kind, Cooperative: req.Cooperative, UnitSize: req.UnitSize, GTIN: req.GTIN,
	})
	if err != nil {
		fail(c, err)
		return
	}
	s.catalog.dropAll()
	c.JSON(http.StatusCreated, productView{p, quantityView{p.UnitSize, p.UnitSizeUnit}})
}

func (s *Server) getProduct(c *gin.Context) {
	p, err := s.deps.Catalog.Product(c.Request.Context(), c.Param("sku"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, productView{p, quantityView{p.UnitSize, p.UnitSizeUnit}})
}

func (s *Server) listProducts(c *gin.Context) {
	ps, err := s.deps.Catalog.Products(c.Request.Context(), pageOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]productView, 0, len(ps))
	for _, p := range ps {
		out = append(out, productView{p, quantityView{p.UnitSize, p.UnitSizeUnit}})
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) plausibilityTable(c *gin.Context) {
	c.JSON(http.StatusOK, traceability.PlausibilityTable())
}
