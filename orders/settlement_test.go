package orders

import (
	"slices"
	"testing"

	"github.com/terroir-coop/terroir/catalog"
)

// TestAllocateAddsUpExactly: the parts always sum to the amount, each row
// says the parts it expects, and weights that are all zero get nothing
// (there is no one to give the amount to; the caller never passes it).
func TestAllocateAddsUpExactly(t *testing.T) {
	for _, tc := range []struct {
		amount  int64
		weights []int64
		want    []int64
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{7, []int64{1200, 3600, 499}, []int64{1, 5, 1}}, // largest remainders: .755, .659 before .585
		{1, []int64{5, 5}, []int64{1, 0}},
		{0, []int64{3, 4}, []int64{0, 0}},
		{12345, []int64{1}, []int64{12345}},
		{10, []int64{0, 0}, []int64{0, 0}},
		{10, []int64{1, 3}, []int64{3, 7}}, // proportional: the larger weight never gets less
	} {
		parts := allocate(tc.amount, tc.weights)
		if !slices.Equal(parts, tc.want) {
			t.Errorf("allocate(%d, %v) = %v, want %v", tc.amount, tc.weights, parts, tc.want)
		}
		var sum, wsum int64
		for i, p := range parts {
			sum += p
			wsum += tc.weights[i]
		}
		if wsum > 0 && sum != tc.amount {
			t.Errorf("allocate(%d, %v) sums to %d", tc.amount, tc.weights, sum)
		}
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
