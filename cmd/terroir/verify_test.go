package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
)

// seedOneLot makes a cooperative with one saffron lot in dir and returns the
// lot and parcel codes.
func seedOneLot(t *testing.T, dir string) (lot, parcel, member string) {
	t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, config{DataDir: dir}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	sys := accounts.System
	if _, err := a.trace.CreateCooperative(ctx, sys, traceability.Cooperative{Code: "SIROUA", Name: "Siroua", Kind: "saffron", Commune: "Taliouine", Province: "Taroudannt"}); err != nil {
		t.Fatal(err)
	}
	m, err := a.trace.AddMember(ctx, sys, "SIROUA", traceability.Member{Name: "Itto", Gender: "female", Village: "Siroua"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.trace.AddParcel(ctx, sys, "SIROUA", traceability.NewParcel{Name: "P", Member: m.ID, Commune: "Taliouine", AreaM2: 1000, Crop: "saffron",
		Location: traceability.Geometry{Type: "Point", Coordinates: []byte(`[-7.92,30.53]`)}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := a.trace.AddHarvest(ctx, sys, "SIROUA", traceability.NewHarvest{Parcel: p.ID, Member: m.ID, Date: "2025-10-28", Crop: "saffron",
		Quantity: traceability.Quantity{Amount: 500, Unit: "g"}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := a.trace.CreateOriginLot(ctx, sys, "SIROUA", traceability.NewOriginLot{ProductKind: "saffron", Harvests: []string{h.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return l.Code, p.ID, m.ID
}

func TestVerifyCommandFindsTampering(t *testing.T) {
	dir := t.TempDir()
	lot, _, _ := seedOneLot(t, dir)
	var out, errOut bytes.Buffer
	if code := run([]string{"verify", "--data", dir}, noEnv, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "checked 1 lots") {
		t.Fatalf("clean store: exit %d, %q %q", code, out.String(), errOut.String())
	}
	ctx := context.Background()
	a, err := openApp(ctx, config{DataDir: dir}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	var stored traceability.Lot
	if err := a.store.Collection("lots").FindOne(ctx, bson.M{"_id": lot}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	stored.Events[0].Actor = "someone else"
	if _, err := a.store.Collection("lots").ReplaceOne(ctx, bson.M{"_id": lot}, stored); err != nil {
		t.Fatal(err)
	}
	a.close()
	out.Reset()
	if code := run([]string{"verify", "--data", dir}, noEnv, nil, &out, &errOut); code != 1 || !strings.Contains(out.String(), "TAMPERED lot "+lot+" at event 1") {
		t.Fatalf("tampered store: exit %d, %q", code, out.String())
	}
}

// TestVerifyCommandExplainsEveryLot: after a correction (an event) verify
// passes; a lot whose stored quantity is edited in the database is named.
func TestVerifyCommandExplainsEveryLot(t *testing.T) {
	dir := t.TempDir()
	lot, _, _ := seedOneLot(t, dir)
	ctx := context.Background()
	a, err := openApp(ctx, config{DataDir: dir}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.trace.CorrectLot(ctx, accounts.System, lot, traceability.Quantity{Amount: 480, Unit: "g"}, "weighed again at the drying room"); err != nil {
		t.Fatal(err)
	}
	a.close()
	var out, errOut bytes.Buffer
	if code := run([]string{"verify", "--data", dir}, noEnv, nil, &out, &errOut); code != 0 {
		t.Fatalf("after a correction: exit %d, %q %q", code, out.String(), errOut.String())
	}
	if a, err = openApp(ctx, config{DataDir: dir}, newLogger(io.Discard)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.Collection("lots").UpdateOne(ctx, bson.M{"_id": lot}, bson.M{"$set": bson.M{"quantity": 520_000}}); err != nil {
		t.Fatal(err)
	}
	a.close()
	out.Reset()
	if code := run([]string{"verify", "--data", dir}, noEnv, nil, &out, &errOut); code != 1 ||
		!strings.Contains(out.String(), "NOT EXPLAINED lot "+lot+": ") || !strings.Contains(out.String(), "quantity is 520000 mg but its creation event says 500000") {
		t.Fatalf("quantity edited in place: exit %d, %q", code, out.String())
	}
}
