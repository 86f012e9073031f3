package trace

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

// GS1 Digital Link compression (GS1 Digital Link standard: compression,
// the algorithm of GS1's reference toolkit): the element strings of a
// Digital Link packed into bits and written in the URI-safe base64
// alphabet, so that /01/09780345418913/10/38737643 fits in a few
// characters. A GS1-Conformant resolver decompresses them (Resolver 1.2,
// "SHALL be able to decompress a URI").
//
// The bit stream is a sequence of fields, each opened by two hex digits:
// 00-99 start an application identifier (Table P says how many digits
// the AI has), the letters name an optimised sequence of AIs (Table Opt),
// and F opens a non-GS1 key=value pair. Values are laid out as Table F
// says: fixed or variable length, numeric (decimal packed in binary) or
// alphanumeric (a 3-bit encoding then the characters).

const safeBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

var (
	compressedSegment = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	errNotCompressed  = errors.New("not a compressed GS1 Digital Link")
)

// tableP: how many digits an AI starting with these two digits has.
var tableP = map[string]int{
	"00": 2, "01": 2, "02": 2, "10": 2, "11": 2, "12": 2, "13": 2, "15": 2, "16": 2, "17": 2, "20": 2, "21": 2, "22": 2,
	"23": 3, "24": 3, "25": 3, "30": 2, "31": 4, "32": 4, "33": 4, "34": 4, "35": 4, "36": 4, "37": 2, "39": 4,
	"40": 3, "41": 3, "42": 3, "70": 4, "71": 3, "72": 4, "80": 4, "81": 4, "82": 4,
	"90": 2, "91": 2, "92": 2, "93": 2, "94": 2, "95": 2, "96": 2, "97": 2, "98": 2, "99": 2,
}

// tableOpt: the AIs an optimisation code stands for, in order.
var tableOpt = map[string][]string{
	"0A": {"01", "22"}, "0B": {"01", "10"}, "0C": {"01", "21"}, "0D": {"01", "17"}, "0E": {"01", "7003"},
	"0F": {"01", "30"}, "1A": {"01", "10", "21", "17"}, "1B": {"01", "15"}, "1C": {"01", "11"},
	"1D": {"01", "16"}, "1E": {"01", "91"}, "1F": {"01", "10", "15"},
	"2A": {"01", "3100"}, "2B": {"01", "3101"}, "2C": {"01", "3102"}, "2D": {"01", "3103"}, "2E": {"01", "3104"}, "2F": {"01", "3105"},
	"3A": {"01", "3200"}, "3B": {"01", "3201"}, "3C": {"01", "3202"}, "3D": {"01", "3203"}, "3E": {"01", "3204"}, "3F": {"01", "3205"},
	"9A": {"8010", "8011"}, "9B": {"8017", "8019"}, "9C": {"8018", "8019"}, "9D": {"414", "254"},
	"A0": {"01", "3920"}, "A1": {"01", "3921"}, "A2": {"01", "3922"}, "A3": {"01", "3923"}, "A4": {"01", "3924"},
	"A5": {"01", "3925"}, "A6": {"01", "3926"}, "A7": {"01", "3927"}, "A8": {"01", "3928"}, "A9": {"01", "3929"},
	"C0": {"255", "3900"}, "C1": {"255", "3901"}, "C2": {"255", "3902"}, "C3": {"255", "3903"}, "C4": {"255", "3904"},
	"C5": {"255", "3905"}, "C6": {"255", "3906"}, "C7": {"255", "3907"}, "C8": {"255", "3908"}, "C9": {"255", "3909"},
	"CA": {"255", "3940"}, "CB": {"255", "3941"}, "CC": {"255", "3942"}, "CD": {"255", "3943"},
}

// part is one component of an AI's value: numeric (N) or alphanumeric
// (X), of a fixed length or at most max characters.
type part struct {
	numeric bool
	fixed   int
	max     int
}

// tableF: the layout of each AI's value, written as in the GS1 General
// Specifications: "N14" fixed numeric, "N..15" variable numeric, "X..20"
// variable alphanumeric; parts separated by '+'.
var tableF = func() map[string][]part {
	spec := map[string]string{
		"00": "N18", "01": "N14", "02": "N14", "10": "X..20", "11": "N6", "12": "N6", "13": "N6", "15": "N6", "16": "N6",
		"17": "N6", "20": "N2", "21": "X..20", "22": "X..20", "240": "X..30", "241": "X..30", "242": "N..6", "243": "X..20",
		"250": "X..30", "251": "X..30", "253": "N13+X..17", "254": "X..20", "255": "N13+N..12", "30": "N..8", "37": "N..8",
		"400": "X..30", "401": "X..30", "402": "N17", "403": "X..30", "420": "X..20", "421": "N3+X..9", "422": "N3",
		"423": "N3+N..12", "424": "N3", "425": "N3+N..12", "426": "N3", "427": "X..3",
		"7001": "N13", "7002": "X..30", "7003": "N10", "7004": "N..4", "7005": "X..12", "7006": "N6", "7007": "N6+N..6",
		"7008": "X..3", "7009": "X..10", "7010": "X..2", "7020": "X..20", "7021": "X..20", "7022": "X..20", "7023": "X..30",
		"8001": "N14", "8002": "X..20", "8003": "N14+X..16", "8004": "X..30", "8005": "N6", "8006": "N18", "8007": "X..24",
		"8008": "N8+N..4", "8009": "X..50", "8010": "X..30", "8011": "N..12", "8012": "X..20", "8013": "X..30",
		"8017": "N18", "8018": "N18", "8019": "N..10", "8020": "X..25", "8026": "N18", "8110": "X..70", "8111": "N4",
		"8112": "X..70", "8200": "X..70", "90": "X..30",
	}
	for i := 410; i <= 416; i++ {
		spec[strconv.Itoa(i)] = "N13"
	}
	for i := 710; i <= 714; i++ {
		spec[strconv.Itoa(i)] = "X..20"
	}
	for i := 0; i <= 9; i++ {
		spec["703"+strconv.Itoa(i)] = "N3+X..27"
		spec["723"+strconv.Itoa(i)] = "X..30"
		spec["390"+strconv.Itoa(i)] = "N..15"
		spec["391"+strconv.Itoa(i)] = "N3+N..15"
		spec["392"+strconv.Itoa(i)] = "N..15"
		spec["393"+strconv.Itoa(i)] = "N3+N..15"
		if i > 0 {
			spec["9"+strconv.Itoa(i)] = "X..90"
		}
	}
	for i := 0; i <= 3; i++ {
		spec["394"+strconv.Itoa(i)] = "N4"
	}
	// Trade measures 310n-369n (n the decimal point position, 0-5).
	for _, r := range [][2]int{{310, 316}, {320, 329}, {330, 337}, {340, 349}, {350, 357}, {360, 369}} {
		for ai := r[0]; ai <= r[1]; ai++ {
			for d := 0; d <= 5; d++ {
				spec[strconv.Itoa(ai)+strconv.Itoa(d)] = "N6"
			}
		}
	}
	out := map[string][]part{}
	for ai, s := range spec {
		for _, p := range strings.Split(s, "+") {
			pt := part{numeric: p[0] == 'N'}
			if n, ok := strings.CutPrefix(p[1:], ".."); ok {
				pt.max, _ = strconv.Atoi(n)
			} else {
				pt.fixed, _ = strconv.Atoi(p[1:])
			}
			out[ai] = append(out[ai], pt)
		}
	}
	return out
}()

// bits reads a string of '0' and '1' from a cursor.
type bits struct {
	s   string
	pos int
}

var errShort = errors.New("compressed Digital Link ends in the middle of a value")

func (b *bits) take(n int) (string, error) {
	if n < 0 || b.pos+n > len(b.s) {
		return "", errShort
	}
	v := b.s[b.pos : b.pos+n]
	b.pos += n
	return v, nil
}

func (b *bits) int(n int) (int, error) {
	v, err := b.take(n)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	i, err := strconv.ParseInt(v, 2, 64)
	return int(i), err
}

// lengthBits is how many bits the length of a value of at most max
// characters takes; valueBits how many a number of n digits takes.
func lengthBits(max int) int { return int(math.Ceil(math.Log2(float64(max)) + 0.01)) }
func valueBits(n int) int    { return int(math.Ceil(float64(n)*math.Log2(10) + 0.01)) }

// digits reads a number of n digits, left-padded with zeros to n.
func (b *bits) digits(n int) (string, error) {
	v, err := b.take(valueBits(n))
	if err != nil || n == 0 {
		return "", err
	}
	i, ok := new(big.Int).SetString(v, 2)
	if !ok {
		return "", errShort
	}
	s := i.String()
	if len(s) > n {
		return "", fmt.Errorf("a %d-digit value holds %s", n, s)
	}
	return strings.Repeat("0", n-len(s)) + s, nil
}

// chars reads n characters in an alphanumeric encoding: 0 digits, 1 and 2
// lower- and upper-case hexadecimal, 3 URI-safe base64, 4 7-bit ASCII.
func (b *bits) chars(enc, n int) (string, error) {
	var alphabet string
	width := 0
	switch enc {
	case 0:
		return b.digits(n)
	case 1:
		alphabet, width = "0123456789abcdef", 4
	case 2:
		alphabet, width = "0123456789ABCDEF", 4
	case 3:
		alphabet, width = safeBase64, 6
	case 4:
		width = 7
	default:
		return "", fmt.Errorf("unknown character encoding %d", enc)
	}
	var sb strings.Builder
	for range n {
		i, err := b.int(width)
		if err != nil {
			return "", err
		}
		if width == 7 {
			sb.WriteByte(byte(i))
		} else {
			sb.WriteByte(alphabet[i])
		}
	}
	return sb.String(), nil
}

// value reads the value of an AI as Table F lays it out.
func (b *bits) value(ai string) (string, error) {
	parts, ok := tableF[ai]
	if !ok {
		return "", fmt.Errorf("AI %s is not supported", ai)
	}
	var sb strings.Builder
	for _, p := range parts {
		var (
			s   string
			err error
		)
		switch {
		case p.numeric && p.fixed > 0:
			s, err = b.digits(p.fixed)
		case p.numeric:
			var n int
			if n, err = b.int(lengthBits(p.max)); err == nil {
				s, err = b.digits(n)
			}
		default:
			var enc, n int
			if enc, err = b.int(3); err != nil {
				return "", err
			}
			n = p.fixed
			if p.fixed == 0 {
				if n, err = b.int(lengthBits(p.max)); err != nil {
					return "", err
				}
			}
			s, err = b.chars(enc, n)
		}
		if err != nil {
			return "", err
		}
		sb.WriteString(s)
	}
	return sb.String(), nil
}

// decompress decodes the compressed part of a Digital Link: the GS1
// element strings (AI → value) and the non-GS1 key=value pairs it holds.
func decompress(segment string) (map[string]string, url.Values, error) {
	if !compressedSegment.MatchString(segment) {
		return nil, nil, errNotCompressed
	}
	var sb strings.Builder
	for i := 0; i < len(segment); i++ {
		fmt.Fprintf(&sb, "%06b", strings.IndexByte(safeBase64, segment[i]))
	}
	b := &bits{s: sb.String()}
	ais, other := map[string]string{}, url.Values{}
	for len(b.s)-b.pos > 8 {
		h1, _ := b.int(4)
		h2, _ := b.int(4)
		hh := fmt.Sprintf("%X%X", h1, h2)
		switch {
		case h1 <= 9 && h2 <= 9:
			n, ok := tableP[hh]
			if !ok {
				return nil, nil, fmt.Errorf("no AI starts with %s", hh)
			}
			ai := hh
			for len(ai) < n {
				d, err := b.int(4)
				if err != nil {
					return nil, nil, err
				}
				if d > 9 {
					return nil, nil, fmt.Errorf("AI %s%X is not numeric", ai, d)
				}
				ai += strconv.Itoa(d)
			}
			v, err := b.value(ai)
			if err != nil {
				return nil, nil, err
			}
			ais[ai] = v
		case tableOpt[hh] != nil:
			for _, ai := range tableOpt[hh] {
				v, err := b.value(ai)
				if err != nil {
					return nil, nil, err
				}
				ais[ai] = v
			}
		case h1 == 0xF:
			// A non-GS1 pair: a 7-bit key length (h2 and 3 more bits),
			// the key in base64 characters, then an encoded value of a
			// 7-bit length.
			more, err := b.int(3)
			if err != nil {
				return nil, nil, err
			}
			key, err := b.chars(3, h2<<3|more)
			if err != nil {
				return nil, nil, err
			}
			enc, err := b.int(3)
			if err != nil {
				return nil, nil, err
			}
			n, err := b.int(7)
			if err != nil {
				return nil, nil, err
			}
			v, err := b.chars(enc, n)
			if err != nil {
				return nil, nil, err
			}
			other.Add(key, v)
		default:
			return nil, nil, fmt.Errorf("no optimisation code %s", hh)
		}
	}
	if len(ais) == 0 {
		return nil, nil, errNotCompressed
	}
	return ais, other, nil
}

// keyQualifiers of the GTIN, in the order a Digital Link path gives them.
var keyQualifiers = []string{"22", "10", "21"}

// Uncompressed is the Digital Link a compressed one stands for: the
// path (primary key and key qualifiers) and the query (data attributes
// by AI and the non-GS1 pairs), or errNotCompressed. The path's last
// segment is the compressed part; the segments before it, when there are
// any, are an uncompressed primary key (/01/{gtin}/{compressed}).
func Uncompressed(path string) (string, url.Values, error) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) != 1 && len(segs) != 3 {
		return "", nil, errNotCompressed
	}
	ais, query, err := decompress(segs[len(segs)-1])
	if err != nil {
		return "", nil, err
	}
	if len(segs) == 3 {
		if _, dup := ais[segs[0]]; dup || segs[0] != "01" {
			return "", nil, errNotCompressed
		}
		ais[segs[0]] = segs[1]
	}
	gtin, ok := ais["01"]
	if !ok {
		return "", nil, errNotCompressed // not a key this resolver knows
	}
	if _, err := traceability.NormalizeGTIN(gtin); err != nil {
		// Any path of URI-safe characters decodes to something: one that
		// does not yield a valid GTIN is not a compressed Digital Link.
		return "", nil, errNotCompressed
	}
	delete(ais, "01")
	p := "/01/" + url.PathEscape(gtin)
	for _, q := range keyQualifiers {
		if v, ok := ais[q]; ok {
			p += "/" + q + "/" + url.PathEscape(v)
			delete(ais, q)
		}
	}
	for ai, v := range ais {
		query.Set(ai, v)
	}
	return p, query, nil
}

// uncompressedKey holds, in a request's context, what Uncompress found.
const uncompressedKey = "trace.uncompressed"

type uncompressed struct{ path, same string }

// Uncompress reports whether the request's path is a compressed GS1
// Digital Link this resolver can answer (web/routes.go asks it of the
// paths no route has, before anything reads the query). When it is, the
// request's query becomes the pairs the compressed part holds followed by
// the request's own, which win; Compressed then answers it.
func (h *Handlers) Uncompress(c *gin.Context) bool {
	path, query, err := Uncompressed(c.Request.URL.EscapedPath())
	if err != nil {
		return false
	}
	same := strings.TrimRight(h.d.Codes.PublicURL, "/") + path
	if len(query) > 0 {
		same += "?" + query.Encode()
	}
	for k, vs := range c.Request.URL.Query() {
		query[k] = vs
	}
	c.Request.URL.RawQuery = query.Encode()
	c.Set(uncompressedKey, uncompressed{path: path, same: same})
	return true
}

// Compressed answers a compressed GS1 Digital Link (after Uncompress) as
// its uncompressed form answers — page, JSON, linkset or linkType
// redirect, HEAD and OPTIONS alike — without redirecting to it (the
// resolver standard's SHOULD NOT), and exposes the uncompressed URI in a
// Link header with rel="owl:sameAs" (its SHALL), which is also the
// linkset's anchor.
func (h *Handlers) Compressed(c *gin.Context) {
	u, ok := c.Value(uncompressedKey).(uncompressed)
	if !ok {
		page.Fail(c, errNotCompressed) // a caller's mistake: Uncompress first
		return
	}
	allowCORS(c)
	if c.Request.Method == http.MethodOptions {
		h.Options(c)
		return
	}
	c.Header("Link", `<`+u.same+`>; rel="owl:sameAs"`)
	ref, err := traceability.ParseTracePath(u.path)
	h.page(c, ref, err)
}
