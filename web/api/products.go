package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

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
	UnitSize quantity `json:"unit_size"`
}

func viewProduct(p catalog.Product) productView {
	return productView{p, quantity{p.UnitSize, p.UnitSizeUnit}}
}

// CreateProduct answers POST /api/v1/products (admin).
func (h *Handlers) CreateProduct(c *gin.Context) {
	var req productRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	p, err := h.d.Catalog.CreateProduct(c.Request.Context(), page.Actor(c), catalog.NewProduct{
		SKU: req.SKU, Names: req.Names, Kind: req.Kind, Cooperative: req.Cooperative, UnitSize: req.UnitSize, GTIN: req.GTIN,
	})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewProduct(p))
}

// GetProduct answers GET /api/v1/products/{sku}.
func (h *Handlers) GetProduct(c *gin.Context) {
	p, err := h.d.Catalog.Product(c.Request.Context(), c.Param("sku"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewProduct(p))
}

// ListProducts answers GET /api/v1/products.
func (h *Handlers) ListProducts(c *gin.Context) {
	ps, err := h.d.Catalog.Products(c.Request.Context(), pageOf(c))
	if err != nil {
		page.Fail(c, err)
		return
	}
	out := make([]productView, 0, len(ps))
	for _, p := range ps {
		out = append(out, viewProduct(p))
	}
	c.JSON(http.StatusOK, out)
}

// SetPrice answers PUT /api/v1/products/{sku}/prices/{channel}: the price in
// the channel's currency (admin, the channel's shop manager).
func (h *Handlers) SetPrice(c *gin.Context) {
	var m catalog.Money
	if err := decodeJSON(c, &m); err != nil {
		page.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	sh, err := h.d.Shops.Shop(ctx, c.Param("channel"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	p, err := h.d.Catalog.SetPrice(ctx, page.Actor(c), c.Param("sku"), sh.Code, sh.Currency, m)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewProduct(p))
}

// SetShare answers PUT /api/v1/products/{sku}/shares/{channel}: the
// producers' agreed share in the channel (admin).
func (h *Handlers) SetShare(c *gin.Context) {
	var sh catalog.Share
	if err := decodeJSON(c, &sh); err != nil {
		page.Fail(c, err)
		return
	}
	p, err := h.d.Catalog.SetShare(c.Request.Context(), page.Actor(c), c.Param("sku"), c.Param("channel"), sh)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewProduct(p))
}

// unpaidLimitRequest is the body of PUT /products/{sku}/unpaid-limit.
type unpaidLimitRequest struct {
	UnpaidLimit *int64 `json:"unpaid_limit"`
}

// SetUnpaidLimit answers PUT /api/v1/products/{sku}/unpaid-limit: how many
// units of the product one customer may hold in unpaid online orders (0:
// the platform's default). The admin or an online platform's manager.
func (h *Handlers) SetUnpaidLimit(c *gin.Context) {
	var req unpaidLimitRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	limit := int64(-1) // missing: refused by the rule, after the access check
	if req.UnpaidLimit != nil {
		limit = *req.UnpaidLimit
	}
	p, err := h.d.Orders.SetUnpaidLimit(c.Request.Context(), page.Actor(c), c.Param("sku"), limit)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewProduct(p))
}

// PhotoUploadRoute is the photo upload's route, which has its own body
// limit (PhotoBodyLimit).
const PhotoUploadRoute = "/api/v1/products/:sku/photo"

// PhotoBodyLimit leaves room for the multipart envelope around a photo of
// catalog.PhotoMaxBytes; the photo itself is measured exactly.
const PhotoBodyLimit = catalog.PhotoMaxBytes + 64<<10

var errPhotoTooLarge = problem.New(problem.TooLarge, "must be at most 2 MiB").At("photo")

// UploadPhoto answers POST /api/v1/products/{sku}/photo (admin, or the
// manager of the product's cooperative), multipart field "photo". Its type
// is taken from its content (never from its name or the client's
// Content-Type), then it is decoded and re-encoded by catalog.ReencodePhoto:
// what /photos/{id}.jpg serves was written by the server.
func (h *Handlers) UploadPhoto(c *gin.Context) {
	ctx, actor := c.Request.Context(), page.Actor(c)
	// Who may upload is decided before a byte of the upload is read.
	if _, err := h.d.Catalog.CheckPhotoEditor(ctx, actor, c.Param("sku")); err != nil {
		page.Fail(c, err)
		return
	}
	data, err := readPhotoField(c.Request)
	if err != nil {
		page.Fail(c, err)
		return
	}
	if ct := http.DetectContentType(data); ct != "image/jpeg" && ct != "image/png" {
		page.Fail(c, problem.Field("photo", "must be a JPEG or PNG image (this file looks like %s)", strings.SplitN(ct, ";", 2)[0]))
		return
	}
	p, err := h.d.Catalog.SetPhoto(ctx, actor, c.Param("sku"), data)
	if err != nil {
		page.Fail(c, err)
		return
	}
	w, ht := catalog.PhotoSize(p.Photo)
	c.JSON(http.StatusCreated, gin.H{"sku": p.SKU, "photo": p.Photo, "url": "/photos/" + p.Photo + ".jpg", "width": w, "height": ht})
}

// readPhotoField returns the bytes of the multipart field "photo": more
// than catalog.PhotoMaxBytes → 413, no such field → 400.
func readPhotoField(r *http.Request) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return nil, problem.Field("photo", "send the image as multipart/form-data in the field \"photo\"")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, problem.Field("photo", "send the image as multipart/form-data in the field \"photo\"")
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, uploadError(err, problem.Field("photo", "no field \"photo\" in the form"))
		}
		if part.FormName() != "photo" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, uploadError(err, problem.Field("photo", "the form could not be read"))
			}
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, catalog.PhotoMaxBytes+1))
		if err != nil {
			return nil, uploadError(err, problem.Field("photo", "the photo could not be read"))
		}
		if len(data) > catalog.PhotoMaxBytes {
			return nil, errPhotoTooLarge
		}
		if len(data) == 0 {
			return nil, problem.Field("photo", "is empty")
		}
		return data, nil
	}
}

func uploadError(err error, refusal error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errPhotoTooLarge
	}
	return refusal
}
