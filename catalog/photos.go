package catalog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Photo limits. An upload is decoded and re-encoded: the bytes a visitor
// downloads are always ours, never the uploader's (no polyglot files, no
// metadata such as a phone's GPS position, no oversized originals on a
// rural connection).
const (
	PhotoMaxBytes  = 2 << 20 // 2 MiB as uploaded
	PhotoMaxSide   = 4000    // pixels, checked before decoding (decompression bombs)
	PhotoWidth     = 800     // stored width at most
	PhotoThumbSide = 240     // listing thumbnails, width at most
	photoQuality   = 85
)

// Photo is a stored product photo: a JPEG re-encoded by the server, and a
// small thumbnail of it. Its ID names its size ("9f…-800x600") so a page
// can write <img width height> without reading the photo.
type Photo struct {
	ID        string    `bson:"_id"`
	SKU       string    `bson:"sku"`
	JPEG      []byte    `bson:"jpeg"`
	Thumb     []byte    `bson:"thumb"`
	Width     int       `bson:"width"`
	Height    int       `bson:"height"`
	CreatedBy string    `bson:"created_by"`
	CreatedAt time.Time `bson:"created_at"`
}

// ErrPhotoNotFound is returned for an unknown photo ID.
var ErrPhotoNotFound = problem.New(problem.NotFound, "photo not found")

var photoIDPattern = regexp.MustCompile(`^[0-9a-f]{20}-([0-9]{1,4})x([0-9]{1,4})$`)

// ValidPhotoID reports whether id is the form of ID NewPhoto gives; other
// strings (paths, dots, slashes) are never looked up.
func ValidPhotoID(id string) bool { return photoIDPattern.MatchString(id) }

// PhotoSize returns the width and height written in a photo ID (zero when
// id is not one).
func PhotoSize(id string) (w, h int) {
	m := photoIDPattern.FindStringSubmatch(id)
	if m == nil {
		return 0, 0
	}
	w, _ = strconv.Atoi(m[1])
	h, _ = strconv.Atoi(m[2])
	return w, h
}

// ThumbSize is the size of a photo's thumbnail, from the photo's size.
func ThumbSize(w, h int) (int, int) { return scaledSize(w, h, PhotoThumbSide) }

// CheckPhotoEditor allows the admin and the manager of the product's
// cooperative; it is cheap, so a handler can ask before reading an upload.
func (s *Service) CheckPhotoEditor(ctx context.Context, actor access.Actor, sku string) (Product, error) {
	if actor.Anonymous() {
		return Product{}, access.ErrUnauthorized
	}
	p, err := s.Product(ctx, sku)
	if err != nil {
		return Product{}, err
	}
	if err := actor.ManageCoop(p.Cooperative); err != nil {
		return Product{}, err
	}
	return p, nil
}

// SetPhoto checks an uploaded image (JPEG or PNG by its content, at most
// PhotoMaxSide on each side), re-encodes it as a JPEG at most PhotoWidth
// wide with a thumbnail, stores it and points the product at it. The
// previous photo is deleted. Errors: access errors, ErrProductNotFound, an
// Invalid problem on field "photo".
func (s *Service) SetPhoto(ctx context.Context, actor access.Actor, sku string, upload []byte) (Product, error) {
	defer s.store.forget(strings.ToUpper(strings.TrimSpace(sku))) // the change may have rolled back (Store.priced)
	p, err := s.CheckPhotoEditor(ctx, actor, sku)
	if err != nil {
		return Product{}, err
	}
	full, thumb, w, h, err := ReencodePhoto(upload)
	if err != nil {
		return Product{}, err
	}
	var rnd [10]byte
	_, _ = rand.Read(rnd[:])
	ph := Photo{ID: fmt.Sprintf("%s-%dx%d", hex.EncodeToString(rnd[:]), w, h), SKU: p.SKU, JPEG: full, Thumb: thumb,
		Width: w, Height: h, CreatedBy: actor.Email, CreatedAt: s.now().UTC()}
	if err := s.store.insertPhoto(ctx, ph); err != nil {
		return Product{}, err
	}
	// Reading the current photo and pointing the product at the new one
	// is a read-then-write: two uploads at once must not both delete the
	// same old photo while one of theirs is left pointing nowhere.
	var old string
	err = s.store.db.Atomically(ctx, func(ctx context.Context) error {
		cur, err := s.store.product(ctx, p.SKU)
		if err != nil {
			return err
		}
		old = cur.Photo
		return s.store.setProductPhoto(ctx, p.SKU, ph.ID)
	})
	if err != nil {
		_ = s.store.deletePhoto(ctx, ph.ID)
		return Product{}, err
	}
	if old != "" {
		_ = s.store.deletePhoto(ctx, old) // an orphan only costs space
	}
	p.Photo = ph.ID
	s.changed(p.SKU)
	return p, nil
}

// Photo returns a stored photo by ID; the photos are public.
func (s *Service) Photo(ctx context.Context, id string) (Photo, error) {
	if !ValidPhotoID(id) {
		return Photo{}, ErrPhotoNotFound
	}
	return s.store.photo(ctx, id)
}

func badPhoto(format string, args ...any) error { return problem.Field("photo", format, args...) }

// ReencodePhoto decodes a JPEG or PNG and returns it re-encoded as JPEG,
// scaled down to at most PhotoWidth wide, with a thumbnail. Transparent
// pixels become white (JPEG has no alpha).
func ReencodePhoto(upload []byte) (full, thumb []byte, w, h int, err error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(upload))
	if err != nil || (format != "jpeg" && format != "png") {
		return nil, nil, 0, 0, badPhoto("must be a JPEG or PNG image")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > PhotoMaxSide || cfg.Height > PhotoMaxSide {
		return nil, nil, 0, 0, badPhoto("must be at most %d×%d pixels (this one is %d×%d)", PhotoMaxSide, PhotoMaxSide, cfg.Width, cfg.Height)
	}
	var src image.Image
	if format == "jpeg" {
		src, err = jpeg.Decode(bytes.NewReader(upload))
	} else {
		src, err = png.Decode(bytes.NewReader(upload))
	}
	if err != nil {
		return nil, nil, 0, 0, badPhoto("could not be read as %s: %s", strings.ToUpper(format), strings.TrimPrefix(err.Error(), format+": "))
	}
	// Flatten onto white once, then scale the flat picture.
	b := src.Bounds()
	flat := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(flat, flat.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(flat, flat.Bounds(), src, b.Min, draw.Over)
	w, h = scaledSize(b.Dx(), b.Dy(), PhotoWidth)
	big := boxScale(flat, w, h)
	tw, th := scaledSize(w, h, PhotoThumbSide)
	small := boxScale(big, tw, th)
	if full, err = encodeJPEG(big); err != nil {
		return nil, nil, 0, 0, err
	}
	if thumb, err = encodeJPEG(small); err != nil {
		return nil, nil, 0, 0, err
	}
	return full, thumb, w, h, nil
}

func encodeJPEG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: photoQuality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// scaledSize keeps the aspect ratio and never enlarges.
func scaledSize(w, h, maxW int) (int, int) {
	if w <= maxW {
		return w, h
	}
	return maxW, max(1, (h*maxW+w/2)/w)
}

// boxScale shrinks src to w×h by area averaging: each output pixel is the
// mean of the source pixels its footprint covers, weighted by how much of
// each it covers. Enough for photos shrunk by up to 20×, and no aliasing
// of fine patterns (woven baskets, saffron threads) as nearest-pixel gives.
func boxScale(src *image.RGBA, w, h int) *image.RGBA {
	sw, sh := src.Bounds().Dx(), src.Bounds().Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if w == sw && h == sh {
		copy(dst.Pix, src.Pix)
		return dst
	}
	// Work in fixed point: source coordinates scaled by w (x) and h (y),
	// so every footprint boundary is an integer.
	xs := spans(sw, w)
	ys := spans(sh, h)
	acc := make([]uint64, w*4)
	for dy, ySpan := range ys {
		clear(acc)
		for _, yc := range ySpan {
			row := src.Pix[yc.i*src.Stride:]
			for dx, xSpan := range xs {
				a := acc[dx*4 : dx*4+4]
				for _, xc := range xSpan {
					wgt := uint64(xc.w) * uint64(yc.w)
					p := row[xc.i*4 : xc.i*4+4]
					a[0] += uint64(p[0]) * wgt
					a[1] += uint64(p[1]) * wgt
					a[2] += uint64(p[2]) * wgt
					a[3] += uint64(p[3]) * wgt
				}
			}
		}
		total := uint64(sw) * uint64(sh) // sum of weights of one footprint
		out := dst.Pix[dy*dst.Stride:]
		for i, v := range acc {
			out[i] = uint8((v + total/2) / total)
		}
	}
	return dst
}

type coverage struct{ i, w int } // source index and its weight

// spans returns, for each of the n output cells, the source cells it
// covers and by how much, in units where a source cell is n wide and an
// output cell is size wide.
func spans(size, n int) [][]coverage {
	out := make([][]coverage, n)
	for d := range n {
		lo, hi := d*size, (d+1)*size // in units of 1/n source cell
		for i := lo / n; i*n < hi; i++ {
			a, b := max(lo, i*n), min(hi, (i+1)*n)
			if b > a {
				out[d] = append(out[d], coverage{i, b - a})
			}
		}
	}
	return out
}
