package main

import (
	"context"
	"fmt"

	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
)

// The demo's flagged harvest: a small saffron parcel at Tinzert whose
// picking is above what saffron typically gives on its area (80 kg/ha of
// stigmas, where the plausible range tops at 60), below the hard limit, so
// it is recorded and flagged. Its lot carries the flag with the
// cooperative's written justification, as the cooperative's lot, harvest
// and audit pages and the auditor show it.
const (
	demoFlaggedParcel = "Parcelle Tinzert (goutte-à-goutte)"
	demoFlaggedDate   = "2026-11-05"
	// demoJustification is what the cooperative's manager wrote.
	demoJustification = "Parcelle irriguée au goutte-à-goutte depuis 2025 et replantée de bulbes neufs : la floraison a été exceptionnelle. La pesée a été refaite devant la présidente de la coopérative."
)

// seedDemoFlag records the flagged harvest, its lot and the justification.
func seedDemoFlag(ctx context.Context, a *app) error {
	sys := accounts.System
	const coop = "SIROUA-SAFRAN"
	members, err := a.trace.Members(ctx, sys, coop, mongodb.Page{Limit: 10})
	if err != nil || len(members) == 0 {
		return fmt.Errorf("%s: members: %d, %v", coop, len(members), err)
	}
	grower := members[0]
	for _, m := range members {
		if m.Village == "Tinzert" { // Khadija Id Ali
			grower = m
		}
	}
	parcel, err := a.trace.AddParcel(ctx, sys, coop, traceability.NewParcel{Name: demoFlaggedParcel, Member: grower.ID,
		Commune: "Taliouine", AreaM2: 500, Crop: "saffron", Location: squareOutline(-7.9249, 30.5322, 500)})
	if err != nil {
		return fmt.Errorf("flagged parcel: %w", err)
	}
	h, err := a.trace.AddHarvest(ctx, sys, coop, traceability.NewHarvest{Parcel: parcel.ID, Member: grower.ID, Date: demoFlaggedDate,
		Crop: "saffron", Quantity: q(4, "kg")})
	if err != nil {
		return fmt.Errorf("flagged harvest: %w", err)
	}
	if h.Flag == "" {
		return fmt.Errorf("the demo's flagged harvest was not flagged: the plausibility table changed")
	}
	lot, err := a.trace.CreateOriginLot(ctx, sys, coop, traceability.NewOriginLot{ProductKind: "saffron", Harvests: []string{h.ID}})
	if err != nil {
		return fmt.Errorf("flagged lot: %w", err)
	}
	for _, f := range lot.Flags {
		if f.Justification == "" {
			if _, err := a.trace.JustifyFlag(ctx, sys, lot.Code, f.ID, demoJustification); err != nil {
				return fmt.Errorf("justification: %w", err)
			}
		}
	}
	return nil
}
