package traceability

import (
	"slices"
	"testing"
)

func schemesOf(l Lot) []string {
	var out []string
	for _, c := range l.Claims {
		out = append(out, c.Scheme)
	}
	slices.Sort(out)
	return out
}

// TestClaimsFollowTheCertificateScope: a crop covers every kind made from
// it, a kind only itself; a certificate of argan never shows on saffron,
// even on a saffron parcel; dried saffron keeps the saffron AOP; a claim
// whose scope does not cover a new kind is dropped.
func TestClaimsFollowTheCertificateScope(t *testing.T) {
	f := newFixture(t)
	saffronParcel := f.parcel("saffron", 100_000)
	certify := func(scheme string, crops, kinds, parcels []string) {
		t.Helper()
		if _, err := f.s.CreateCertification(f.ctx, f.admin, NewCertification{Holder: f.coop, Scheme: scheme, Body: "ONSSA", Number: "N-" + scheme,
			ValidFrom: "2025-01-01", ValidTo: "2030-12-31", Crops: crops, ProductKinds: kinds, Parcels: parcels}); err != nil {
			t.Fatal(err)
		}
	}
	certify("AOP Safran de Taliouine", []string{"saffron"}, nil, nil)
	certify("IGP Argane", []string{"argan"}, nil, []string{saffronParcel}) // argan scope on a saffron parcel
	certify("Argan kinds", nil, []string{"argan_oil"}, nil)
	certify("Fresh saffron only", nil, []string{"saffron"}, nil)
	certify("EU organic", nil, nil, []string{saffronParcel}) // every kind, this parcel

	saffron := f.originLot("saffron", g(500))
	if got, want := schemesOf(saffron), []string{"AOP Safran de Taliouine", "EU organic", "Fresh saffron only"}; !slices.Equal(got, want) {
		t.Fatalf("saffron lot claims %v, want %v", got, want)
	}
	dried := f.mustTransform("drying", in(saffron, g(500)), out("saffron_dried", g(100)))[0]
	if got, want := schemesOf(dried), []string{"AOP Safran de Taliouine", "EU organic"}; !slices.Equal(got, want) {
		t.Fatalf("dried saffron claims %v, want %v", got, want)
	}
	sorted := f.mustTransform("sorting", in(dried, g(50)), out("saffron_dried", g(48)))[0]
	jars := f.pack(sorted, 40, 1000)
	if got, want := schemesOf(jars), []string{"AOP Safran de Taliouine", "EU organic"}; !slices.Equal(got, want) {
		t.Fatalf("jars claim %v, want %v", got, want)
	}

	// An argan lot of another parcel: IGP Argane does not cover that parcel.
	argan := f.originLot("argan", kg(300))
	if got := schemesOf(argan); len(got) != 0 {
		t.Fatalf("argan lot of an uncertified parcel claims %v", got)
	}
	// A kind-scoped certificate covers its kind only when every input
	// carries it: the argan lot does not, so its oil does not either.
	kernels := f.mustTransform("cracking", in(argan, kg(300)), out("argan_kernels", kg(15)))[0]
	oil := f.mustTransform("extraction", in(kernels, kg(15)), out("argan_oil", ml(6500)))[0]
	if got := schemesOf(oil); len(got) != 0 {
		t.Fatalf("argan oil claims %v", got)
	}
}
