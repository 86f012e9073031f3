package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The demo's product pictures are drawn here, so every product of the demo
// catalogue has one and the project ships no photograph it does not own: a
// jar of saffron (red threads behind glass), a bottle of argan oil (gold),
// a dropper bottle of essential oil (amber), on the cream of the pages.
// They go through the catalogue's photo upload like any photograph.

type rgba = color.RGBA

func rgb(r, g, b uint8) rgba { return rgba{R: r, G: g, B: b, A: 0xff} }

var (
	demoCream = rgb(0xfb, 0xf7, 0xf1)
	demoInk   = rgb(0x2b, 0x21, 0x18)
	demoLabel = rgb(0xf4, 0xe9, 0xd8)
	demoBrand = rgb(0xb5, 0x40, 0x0f)
)

// demoPicture draws the product of a kind, 600 × 600.
func demoPicture(kind string) []byte {
	const side = 600
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	fill(img, func(x, y float64) bool { return true }, demoCream)
	// A shadow under the container.
	fill(img, ellipse(300, 540, 170, 22), rgb(0xe6, 0xdc, 0xcf))
	switch kind {
	case "saffron_dried":
		glass := rgb(0xe9, 0xe4, 0xdc)
		fill(img, roundRect(170, 200, 430, 540, 40), glass)
		// Red threads seen through the glass.
		for i := 0; i < 60; i++ {
			x0 := 190 + float64((i*37)%220)
			y0 := 330 + float64((i*53)%180)
			a := float64(i) * 0.7
			fill(img, thread(x0, y0, a, 34, 3), rgb(0xb3, 0x1b, 0x12))
		}
		fill(img, roundRect(160, 150, 440, 215, 14), demoInk) // lid
		fill(img, roundRect(190, 250, 410, 320, 8), demoLabel)
		fill(img, roundRect(205, 275, 395, 295, 4), demoBrand)
	case "argan_oil":
		oil := rgb(0xd9, 0x9a, 0x22)
		fill(img, roundRect(200, 250, 400, 540, 50), oil)
		fill(img, roundRect(265, 140, 335, 260, 14), oil)       // neck
		fill(img, roundRect(255, 95, 345, 150, 10), demoInk)    // cap
		fill(img, roundRect(215, 340, 385, 450, 10), demoLabel) // label
		fill(img, roundRect(235, 380, 365, 405, 4), demoBrand)
		fill(img, ellipse(250, 300, 12, 40), rgb(0xf2, 0xc4, 0x5a)) // light on the glass
	default: // essential oil, and whatever else: an amber dropper bottle
		amber := rgb(0x8a, 0x4b, 0x14)
		fill(img, roundRect(220, 300, 380, 540, 30), amber)
		fill(img, roundRect(270, 250, 330, 310, 8), amber)
		fill(img, roundRect(255, 170, 345, 260, 12), demoInk)
		fill(img, ellipse(300, 150, 40, 40), demoInk) // the dropper's bulb
		fill(img, roundRect(232, 370, 368, 470, 10), demoLabel)
		fill(img, roundRect(250, 405, 350, 428, 4), rgb(0x3e, 0x6b, 0x3a)) // a sprig's green
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// fill paints the pixels inside a shape, with 4× supersampled edges.
func fill(img *image.RGBA, inside func(x, y float64) bool, c rgba) {
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			n := 0
			for _, d := range [4][2]float64{{.25, .25}, {.75, .25}, {.25, .75}, {.75, .75}} {
				if inside(float64(x)+d[0], float64(y)+d[1]) {
					n++
				}
			}
			if n == 0 {
				continue
			}
			old := img.RGBAAt(x, y)
			mix := func(a, b uint8) uint8 { return uint8((int(a)*(4-n) + int(b)*n) / 4) }
			img.SetRGBA(x, y, rgb(mix(old.R, c.R), mix(old.G, c.G), mix(old.B, c.B)))
		}
	}
}

func ellipse(cx, cy, rx, ry float64) func(x, y float64) bool {
	return func(x, y float64) bool {
		dx, dy := (x-cx)/rx, (y-cy)/ry
		return dx*dx+dy*dy <= 1
	}
}

func roundRect(x0, y0, x1, y1, r float64) func(x, y float64) bool {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		dx, dy := x-cx, y-cy
		return dx*dx+dy*dy <= r*r
	}
}

// thread is a short stroke of length l and width w from (x0, y0) at angle a.
func thread(x0, y0, a, l, w float64) func(x, y float64) bool {
	ux, uy := math.Cos(a), math.Sin(a)
	return func(x, y float64) bool {
		dx, dy := x-x0, y-y0
		along := dx*ux + dy*uy
		across := -dx*uy + dy*ux
		return along >= 0 && along <= l && math.Abs(across) <= w/2
	}
}
