package traceability

import (
	"errors"
	"math"
	"testing"
)

func TestQuantityBase(t *testing.T) {
	tests := []struct {
		name    string
		q       Quantity
		amount  int64
		unit    Unit
		wantErr string
	}{
		{"milligrams", Quantity{500, "mg"}, 500, Milligram, ""},
		{"grams", Quantity{1250, "g"}, 1_250_000, Milligram, ""},
		{"kilograms", Quantity{3, "kg"}, 3_000_000, Milligram, ""},
		{"millilitres", Quantity{250, "ml"}, 250, Millilitre, ""},
		{"litres", Quantity{2, "l"}, 2_000, Millilitre, ""},
		{"litres upper case", Quantity{2, "L"}, 2_000, Millilitre, ""},
		{"kilograms with spaces", Quantity{1, " Kg "}, 1_000_000, Milligram, ""},
		{"pieces", Quantity{12, "pcs"}, 12, Piece, ""},
		{"largest kg", Quantity{math.MaxInt64 / 1_000_000, "kg"}, math.MaxInt64 / 1_000_000 * 1_000_000, Milligram, ""},
		{"zero", Quantity{0, "kg"}, 0, "", "quantity: amount must be a positive whole number, got 0"},
		{"negative", Quantity{-5, "g"}, 0, "", "quantity: amount must be a positive whole number, got -5"},
		{"unknown unit", Quantity{5, "lb"}, 0, "", `quantity: unknown unit "lb" (use mg, g, kg, ml, l or pcs)`},
		{"missing unit", Quantity{5, ""}, 0, "", "quantity: unit is required (one of mg, g, kg, ml, l, pcs)"},
		{"overflow kg", Quantity{math.MaxInt64/1_000_000 + 1, "kg"}, 0, "", "quantity: 9223372036855 kg is too large"},
		{"overflow l", Quantity{math.MaxInt64, "l"}, 0, "", "quantity: 9223372036854775807 l is too large"},
		{"max mg is fine", Quantity{math.MaxInt64, "mg"}, math.MaxInt64, Milligram, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			amount, unit, err := tt.q.Base()
			if tt.wantErr != "" {
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("Base() error = %v, want *FieldError %q", err, tt.wantErr)
				}
				if fe.Field != "quantity" || err.Error() != tt.wantErr {
					t.Errorf("Base() error = %q (field %q), want %q", err, fe.Field, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Base() unexpected error %v", err)
			}
			if amount != tt.amount || unit != tt.unit {
				t.Errorf("Base() = %d %s, want %d %s", amount, unit, tt.amount, tt.unit)
			}
		})
	}
}

func TestDimension(t *testing.T) {
	tests := []struct {
		unit Unit
		want string
	}{
		{Milligram, "mass"},
		{Millilitre, "volume"},
		{Piece, "count"},
		{"kg", ""}, // not a base unit: callers must convert first
		{"", ""},
	}
	for _, tt := range tests {
		if got := Dimension(tt.unit); got != tt.want {
			t.Errorf("Dimension(%q) = %q, want %q", tt.unit, got, tt.want)
		}
	}
}

func TestFormatQuantity(t *testing.T) {
	tests := []struct {
		amount int64
		unit   Unit
		want   string
	}{
		{1_250_000, Milligram, "1.25 kg"},
		{500, Milligram, "500 mg"},
		{3, Piece, "3 pcs"},
		{1_000_000, Milligram, "1 kg"},
		{1_000_001, Milligram, "1000.001 g"},
		{1_234, Milligram, "1.234 g"},
		{1_000_000_007, Milligram, "1000000.007 g"},
		{999, Milligram, "999 mg"},
		{1_500, Millilitre, "1.5 l"},
		{1_001, Millilitre, "1.001 l"},
		{750, Millilitre, "750 ml"},
		{-2_500_000, Milligram, "-2.5 kg"},
		{0, Milligram, "0 mg"},
		{math.MinInt64, Milligram, "-9223372036854775.808 g"},
		{math.MaxInt64 / 1_000_000 * 1_000_000, Milligram, "9223372036854 kg"},
		{7, "zz", "7 zz"},
	}
	for _, tt := range tests {
		if got := FormatQuantity(tt.amount, tt.unit); got != tt.want {
			t.Errorf("FormatQuantity(%d, %q) = %q, want %q", tt.amount, tt.unit, got, tt.want)
		}
	}
}
