package orders

import (
	"testing"

	"github.com/terroir-coop/terroir/catalog"
)

func TestAllocateAddsUpExactly(t *testing.T) {
	for _, tc := range []struct {
		amount  int64
		weights []int64
	}{
		{100, []int64{1, 1, 1}},
		{7, []int64{1200, 3600, 499}},
		{1, []int64{5, 5}},
		{0, []int64{3, 4}},
		{12345, []int64{1}},
		{10, []int64{0, 0}},
	} {
		parts := allocate(tc.amount, tc.weights)
		var sum, wsum int64
		for i, p := range parts {
			sum += p
			wsum += tc.weights[i]
			if p < 0 {
				t.Fatalf("%v: negative part", tc)
			}
		}
		if wsum > 0 && sum != tc.amount {
			t.Errorf("allocate(%d, %v) = %v, sums to %d", tc.amount, tc.weights, parts, sum)
		}
	}
	// Proportional: the larger weight never gets less.
	if p := allocate(10, []int64{1, 3}); p[0] > p[1] || p[0]+p[1] != 10 {
		t.Errorf("allocate(10, [1 3]) = %v", p)
	}
}

func TestFeesAndShares(t *testing.T) {
	if got := OrderFee(2400); got != 36+25 {
		t.Errorf("fee of 24.00 EUR: %d, want 61 (1.5 %% rounded up + 25)", got)
	}
	if got := OrderFee(1); got != 1+25 {
		t.Errorf("fee of 0.01 EUR: %d", got)
	}
	for _, tc := range []struct {
		share        catalog.Share
		units, gross int64
		want         int64
	}{
		{catalog.Share{Kind: "percent", Percent: 7000}, 3, 3600, 2520},
		{catalog.Share{Kind: "percent", Percent: 6667}, 1, 1001, 667}, // 667.3667 rounds down
		{catalog.Share{Kind: "fixed", Amount: 800}, 3, 3600, 2400},
	} {
		if got := tc.share.ProducerShare(tc.units, tc.gross); got != tc.want {
			t.Errorf("%+v on %d units, %d gross: %d, want %d", tc.share, tc.units, tc.gross, got, tc.want)
		}
	}
}
