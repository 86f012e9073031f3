package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
)

// The demo's records: parcels, harvests of the last season, certificates,
// transformations and packed jars, prices and stock in the shops — enough to
// open a trace page, browse a catalogue and sell at a till. They are made
// once, when the demo network is first seeded. The certificate numbers,
// control-body codes, GTINs and the laboratory and its report are invented
// for the demo. The saffron parcel is recorded with its walked outline and
// the dried saffron with a category I result, so the trace page of the jars
// and the cooperative's evidence file show both.

type demoChain struct {
	coop, crop, commune, village string
	lon, lat                     float64
	areaM2                       int64
	harvests                     []demoHarvest
	steps                        []demoStep
	product                      catalog.NewProduct
	packUnits                    int64
	prices                       map[string]int64 // channel → minor units
	stock                        map[string]int64 // shop → units received
	certs                        []traceability.NewCertification
	// outline: the parcel was walked (a polygon of its area), not just
	// pointed at; lab: the laboratory result of the last step's lot.
	outline bool
	lab     *traceability.NewLabResult
	// advances: paid to the member at delivery, by harvest (index → centimes, cash).
	advances map[int]int64
}

type demoHarvest struct {
	date   string
	amount int64
	unit   string
}

type demoStep struct {
	process, kind string
	in, out       traceability.Quantity // in: from the previous lot; out: the new lot
}

func q(amount int64, unit string) traceability.Quantity {
	return traceability.Quantity{Amount: amount, Unit: unit}
}

var demoChains = []demoChain{
	{coop: "SIROUA-SAFRAN", crop: "saffron", commune: "Taliouine", village: "Siroua", lon: -7.9262, lat: 30.5318, areaM2: 1200,
		harvests: []demoHarvest{{"2026-10-29", 450, "g"}, {"2026-11-03", 700, "g"}, {"2026-11-08", 350, "g"}},
		steps:    []demoStep{{"drying", "saffron_dried", q(1500, "g"), q(300, "g")}},
		product: catalog.NewProduct{SKU: "SAF-TAL-1G", Kind: "saffron_dried", Cooperative: "SIROUA-SAFRAN", UnitSize: q(1, "g"), GTIN: "6111234567895",
			Names:        catalog.Names{FR: "Safran de Taliouine, 1 g", EN: "Taliouine saffron, 1 g", AR: "زعفران تالوين، 1 غ"},
			Descriptions: catalog.Names{FR: "Stigmates cueillis à l'aube sur les parcelles du Siroua, séchés au centre de valorisation de Taliouine.", EN: "Stigmas picked at dawn on the Siroua parcels, dried at the Taliouine valorisation centre.", AR: "مياسم تُقطف فجرًا في قطع سيروا وتُجفف في مركز التثمين بتالوين."}},
		packUnits: 250, prices: map[string]int64{"TAROUDANNT": 4000, "AGADIR": 4200, "CVT-TALIOUINE": 3800, "EU-PLATFORM": 900},
		stock: map[string]int64{"CVT-TALIOUINE": 40, "TAROUDANNT": 40, "AGADIR": 30, "EU-PLATFORM": 80},
		certs: []traceability.NewCertification{
			{Holder: "SIROUA-SAFRAN", Scheme: "AOP Safran de Taliouine", Body: "Organisme de contrôle agréé (démo)", BodyCode: "MA-AOP-DEMO-01", Number: "AOP-ST-2026-014", ValidFrom: "2025-01-01", ValidTo: "2028-12-31", Crops: []string{"saffron"}},
			{Holder: "SIROUA-SAFRAN", Scheme: "EU organic", Body: "Organisme de certification bio (démo)", BodyCode: "MA-BIO-DEMO-154", Number: "BIO-2026-0871", ValidFrom: "2025-06-01", ValidTo: "2027-05-31"},
		},
		outline: true, advances: map[int]int64{0: 30_000, 2: 10_000},
		lab: &traceability.NewLabResult{Laboratory: traceability.Laboratory{Name: "Laboratoire d'analyses agroalimentaires (démo)", Accreditation: "MA-17025-DEMO-07"},
			ReportNumber: "DEMO-2026-118", SampleDate: "2026-11-10", ReportDate: "2026-11-18", ReportedCategory: "I",
			E257: "88.6", E330: "33.2", E440: "241", Moisture: "9.4", FloralWaste: "0.3", ForeignMatter: "0.04"}},
	{coop: "TIWIZWINE", crop: "argan", commune: "Arbâa Sahel", village: "Arbâa Sahel", lon: -9.8265, lat: 29.6012, areaM2: 20000,
		harvests: []demoHarvest{{"2026-07-15", 300, "kg"}},
		steps:    []demoStep{{"cracking", "argan_kernels", q(300, "kg"), q(15, "kg")}, {"extraction", "argan_oil", q(15, "kg"), q(6500, "ml")}},
		product: catalog.NewProduct{SKU: "ARG-250ML", Kind: "argan_oil", Cooperative: "TIWIZWINE", UnitSize: q(250, "ml"), GTIN: "6111234567901",
			Names:        catalog.Names{FR: "Huile d'argan cosmétique, 250 ml", EN: "Cosmetic argan oil, 250 ml", AR: "زيت الأركان التجميلي، 250 مل"},
			Descriptions: catalog.Names{FR: "Amandons concassés à la main par les femmes de la coopérative, pressés à froid.", EN: "Kernels cracked by hand by the cooperative's women, cold-pressed.", AR: "لوز مكسّر يدويًا من طرف نساء التعاونية، معصور على البارد."}},
		packUnits: 24, prices: map[string]int64{"TAROUDANNT": 18000, "AGADIR": 19000, "EU-PLATFORM": 2400},
		stock: map[string]int64{"AGADIR": 10, "TAROUDANNT": 6, "EU-PLATFORM": 8},
		certs: []traceability.NewCertification{
			{Holder: "TIWIZWINE", Scheme: "IGP Argane", Body: "Organisme de contrôle agréé (démo)", BodyCode: "MA-IGP-DEMO-02", Number: "IGP-ARG-2026-033", ValidFrom: "2025-01-01", ValidTo: "2028-12-31"},
		}},
	{coop: "TIFAOUT", crop: "pamm", commune: "Tagmoute", village: "Tagmoute", lon: -7.8655, lat: 29.9702, areaM2: 15000,
		harvests: []demoHarvest{{"2026-04-20", 400, "kg"}},
		steps:    []demoStep{{"distillation", "essential_oil", q(400, "kg"), q(3, "l")}},
		product: catalog.NewProduct{SKU: "PAM-ROMARIN-10ML", Kind: "essential_oil", Cooperative: "TIFAOUT", UnitSize: q(10, "ml"),
			Names:        catalog.Names{FR: "Huile essentielle de romarin, 10 ml", EN: "Rosemary essential oil, 10 ml", AR: "زيت إكليل الجبل العطري، 10 مل"},
			Descriptions: catalog.Names{FR: "Romarin cueilli autour de Tagmoute, distillé à l'alambic de la coopérative.", EN: "Rosemary gathered around Tagmoute, distilled in the cooperative's still.", AR: "إكليل الجبل مقطوف حول تاكموت ومقطر في معمل التعاونية."}},
		packUnits: 200, prices: map[string]int64{"TAROUDANNT": 6500, "AGADIR": 7000, "EU-PLATFORM": 1100},
		stock: map[string]int64{"TAROUDANNT": 30, "AGADIR": 30, "EU-PLATFORM": 40}},
}

// seedDemoRecords makes the demo's records and returns the saffron jars'
// lot, whose trace URL serve prints.
func seedDemoRecords(ctx context.Context, a *app) (string, error) {
	sys := accounts.System
	var saffronJars string
	for _, ch := range demoChains {
		members, err := a.trace.Members(ctx, sys, ch.coop, mongodb.Page{Limit: 10})
		if err != nil || len(members) == 0 {
			return "", fmt.Errorf("%s: members: %v", ch.coop, err)
		}
		loc, _ := json.Marshal([]float64{ch.lon, ch.lat})
		where := traceability.Geometry{Type: "Point", Coordinates: loc}
		if ch.outline {
			where = squareOutline(ch.lon, ch.lat, ch.areaM2)
		}
		parcel, err := a.trace.AddParcel(ctx, sys, ch.coop, traceability.NewParcel{Name: "Parcelle " + ch.village, Member: members[0].ID,
			Commune: ch.commune, AreaM2: ch.areaM2, Crop: ch.crop, Location: where})
		if err != nil {
			return "", fmt.Errorf("%s: parcel: %w", ch.coop, err)
		}
		for _, c := range ch.certs {
			if _, err := a.trace.CreateCertification(ctx, sys, c); err != nil {
				return "", fmt.Errorf("%s: certificate: %w", ch.coop, err)
			}
		}
		var hs []string
		for i, h := range ch.harvests {
			m := members[i%len(members)]
			nh := traceability.NewHarvest{Parcel: parcel.ID, Member: m.ID, Date: h.date, Crop: ch.crop, Quantity: q(h.amount, h.unit)}
			if adv := ch.advances[i]; adv > 0 {
				nh.Advance = &traceability.HarvestAdvance{Amount: adv, Currency: "MAD", Method: "cash"}
			}
			got, err := a.trace.AddHarvest(ctx, sys, ch.coop, nh)
			if err != nil {
				return "", fmt.Errorf("%s: harvest: %w", ch.coop, err)
			}
			hs = append(hs, got.ID)
		}
		lot, err := a.trace.CreateOriginLot(ctx, sys, ch.coop, traceability.NewOriginLot{ProductKind: ch.crop, Harvests: hs})
		if err != nil {
			return "", fmt.Errorf("%s: lot: %w", ch.coop, err)
		}
		for _, st := range ch.steps {
			out, err := a.trace.Transform(ctx, sys, ch.coop, traceability.NewTransformation{Process: st.process,
				Inputs:  []traceability.LotInput{{Lot: lot.Code, Quantity: st.in}},
				Outputs: []traceability.LotOutput{{ProductKind: st.kind, Quantity: st.out}}})
			if err != nil {
				return "", fmt.Errorf("%s: %s: %w", ch.coop, st.process, err)
			}
			lot = out[0]
		}
		if ch.lab != nil {
			if _, err := a.trace.AddLabResult(ctx, sys, lot.Code, *ch.lab); err != nil {
				return "", fmt.Errorf("%s: laboratory result: %w", ch.coop, err)
			}
		}
		p, err := a.catalog.CreateProduct(ctx, sys, ch.product)
		if err != nil {
			return "", fmt.Errorf("%s: product: %w", ch.coop, err)
		}
		if p, err = a.catalog.SetPhoto(ctx, sys, p.SKU, demoPicture(p.Kind)); err != nil {
			return "", fmt.Errorf("%s: picture: %w", ch.product.SKU, err)
		}
		for channel, amount := range ch.prices {
			sh, err := a.shops.Shop(ctx, channel)
			if err != nil {
				return "", err
			}
			if _, err := a.catalog.SetPrice(ctx, sys, p.SKU, channel, sh.Currency, catalog.Money{Amount: amount, Currency: sh.Currency}); err != nil {
				return "", fmt.Errorf("%s: price: %w", p.SKU, err)
			}
		}
		packed, err := a.trace.Pack(ctx, sys, ch.coop, traceability.NewPacking{Lot: lot.Code, Units: ch.packUnits,
			BestBefore: time.Now().AddDate(2, 0, 0).Format(time.DateOnly), Product: p.Packed()})
		if err != nil {
			return "", fmt.Errorf("%s: packing: %w", ch.coop, err)
		}
		for shop, units := range ch.stock {
			if _, err := a.stock.Receive(ctx, sys, shop, shops.ReceiptRequest{Lot: packed.Code, Units: units}); err != nil {
				return "", fmt.Errorf("%s: receipt at %s: %w", ch.coop, shop, err)
			}
		}
		if ch.crop == "saffron" {
			saffronJars = packed.Code
		}
	}
	if err := seedDemoFlag(ctx, a); err != nil {
		return "", err
	}
	if err := seedDemoOrders(ctx, a, a.publicURL); err != nil {
		return "", err
	}
	if err := seedDemoPay(ctx, a); err != nil {
		return "", err
	}
	return saffronJars, nil
}

// squareOutline is a square parcel of areaM2 centred on a point, as a
// walked GeoJSON outline (the register checks its area against it).
func squareOutline(lon, lat float64, areaM2 int64) traceability.Geometry {
	half := math.Sqrt(float64(areaM2)) / 2
	dLat := half / 110_574
	dLon := half / (111_320 * math.Cos(lat*math.Pi/180))
	ring := [][]float64{{lon - dLon, lat - dLat}, {lon + dLon, lat - dLat}, {lon + dLon, lat + dLat}, {lon - dLon, lat + dLat}, {lon - dLon, lat - dLat}}
	b, _ := json.Marshal([][][]float64{ring})
	return traceability.Geometry{Type: "Polygon", Coordinates: b}
}
