package web_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/webtest"
)

// BenchmarkTraceVsHealthz measures scans of the public trace page (HTML and
// JSON) against the same server's /healthz, over loopback HTTP with
// keep-alive, with 10 000 packed lots in the embedded store. Each scan picks
// one of the lots at random, so the first scan of a lot reads the store and
// later ones are served from the trace cache.
//
//	go test ./web -run '^$' -bench TraceVsHealthz -benchtime 20000x
//
// Compare ns/op of the sub-benchmarks: the target is trace ≤ 2 × healthz.
func BenchmarkTraceVsHealthz(b *testing.B) {
	e := webtest.New(b)
	p := seedPackedLots(b, e, 10_000)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	get := func(b *testing.B, url string, accept string) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d", url, resp.StatusCode)
		}
	}
	b.Run("trace_html_cold", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				get(b, p[rand.IntN(len(p))], "")
			}
		})
	})
	for _, u := range p { // every lot scanned once: the cache is warm
		get(b, u, "")
	}
	b.Run("healthz", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				get(b, e.URL("/healthz"), "")
			}
		})
	})
	b.Run("trace_html", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				get(b, p[rand.IntN(len(p))], "")
			}
		})
	})
	b.Run("trace_json", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				get(b, p[rand.IntN(len(p))], "application/json")
			}
		})
	})
}

// seedPackedLots stores n packed saffron lots (written directly, as a load
// seed would) and returns their signed trace URLs.
func seedPackedLots(b *testing.B, e *webtest.Env, n int) []string {
	b.Helper()
	ctx := context.Background()
	f := newCoop(b, e, "SIROUA", "saffron", 1000)
	if st := e.JSON("POST", "/api/v1/products", e.AdminToken, map[string]any{"sku": "SAF-1G",
		"names": map[string]string{"fr": "Safran de Taliouine 1 g", "en": "Taliouine saffron 1 g", "ar": "زعفران تالوين 1 غ"},
		"kind":  "saffron_dried", "cooperative": "SIROUA", "unit_size": map[string]any{"amount": 1, "unit": "g"}, "gtin": "6111234567895"}, nil); st != 201 {
		b.Fatalf("product: %d", st)
	}
	now := time.Now().UTC()
	urls := make([]string, 0, n)
	batch := make([]any, 0, 500)
	for i := range n {
		code, err := traceability.NewLotCode("saffron_dried")
		if err != nil {
			b.Fatal(err)
		}
		l := traceability.Lot{Code: code, Cooperative: "SIROUA", ProductKind: "saffron_dried", Source: traceability.SourcePacking, SKU: "SAF-1G",
			Quantity: 50, Available: 50, Unit: traceability.Piece, GTIN: "06111234567895", BestBefore: "2028-12-31",
			UnitSize: 1000, UnitSizeOf: traceability.Milligram, Inputs: []traceability.EventRef{}, Outputs: []traceability.EventRef{},
			Claims: []traceability.Claim{}, Flags: []traceability.Flag{}, CreatedBy: "seed", CreatedAt: now,
			Origin: []traceability.OriginLine{{Harvest: fmt.Sprintf("h%d", i), Date: "2025-10-28", Crop: "saffron", Quantity: 50_000,
				Parcel: f.parcel, ParcelName: "Tamazirt", Commune: "Taliouine", Lon: -7.92, Lat: 30.53, Member: f.member,
				MemberName: "Fatima", Gender: "female", Village: "Siroua"}}}
		batch = append(batch, l)
		urls = append(urls, e.Codes.URL(traceability.RefOf(l, "")))
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := e.Store.Collection("lots").InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if !strings.HasPrefix(urls[0], e.Server.URL) {
		b.Fatal("trace URLs are not on the test server")
	}
	return urls
}
