package problem

import "testing"

func TestWithPrefix(t *testing.T) {
	base := &Error{Code: Invalid, Field: "quantity", Message: "amount must be positive"}
	tests := []struct {
		name  string
		err   *Error
		want  string
		field string
	}{
		{"plain", base, "quantity: amount must be positive", "quantity"},
		{"prefixed", base.WithPrefix("inputs[2]"), "inputs[2].quantity: amount must be positive", "inputs[2].quantity"},
		{"empty prefix", base.WithPrefix(""), "quantity: amount must be positive", "quantity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if tt.err.Field != tt.field {
				t.Errorf("Field = %q, want %q", tt.err.Field, tt.field)
			}
		})
	}
	if base.Field != "quantity" {
		t.Errorf("WithPrefix changed its receiver: Field = %q", base.Field)
	}
}
