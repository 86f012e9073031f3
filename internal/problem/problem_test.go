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

func TestConstructorsKeepKeyAndArgs(t *testing.T) {
	e := Field("quantity", "amount must be a positive whole number, got %d", -5)
	if e.Key != "amount must be a positive whole number, got %d" || len(e.Args) != 1 || e.Args[0] != -5 {
		t.Fatalf("key %q args %v", e.Key, e.Args)
	}
	if e.Message != "amount must be a positive whole number, got -5" || e.MessageKey() != e.Key {
		t.Fatalf("message %q key %q", e.Message, e.MessageKey())
	}
	lit := &Error{Code: NotFound, Message: "lot not found"}
	if lit.MessageKey() != "lot not found" {
		t.Fatalf("a literal's key is its message, got %q", lit.MessageKey())
	}
	k := New(Invalid, "%s is counted in %s", Kind("saffron_dried"), Dimension("mass"))
	if k.Message != "saffron_dried is counted in mass" {
		t.Fatalf("terms print as their codes in English: %q", k.Message)
	}
	at := New(InsufficientStock, "only %d left", 2).At("lines[1].units")
	if at.Field != "lines[1].units" || at.Code != InsufficientStock || at.Key != "only %d left" {
		t.Fatalf("At: %+v", at)
	}
}

func TestFieldChecks(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		key  string // "" when the value passes
	}{
		{"text present", RequireText("name", "  Tiwizi  ", 6), ""},
		{"text missing", RequireText("name", "   ", 10), "is required"},
		{"text not UTF-8", RequireText("name", "caf\xe9", 10), "is not valid UTF-8"},
		{"text too long", RequireText("name", "Taliouine", 8), "must be at most %d characters"},
		{"text counts runes", RequireText("name", "تاليوين", 7), ""},
		{"one of, allowed", OneOf("kind", "argan", []string{"saffron", "argan"}), ""},
		{"one of, refused", OneOf("kind", "tea", []string{"saffron", "argan"}), "must be one of %s"},
	} {
		if c.key == "" {
			if c.err != nil {
				t.Errorf("%s: %v, want nil", c.name, c.err)
			}
			continue
		}
		e, ok := As(c.err)
		if !ok || e.Code != Invalid || e.Key != c.key || e.Field == "" {
			t.Errorf("%s: got %#v, want an Invalid field error keyed %q", c.name, c.err, c.key)
		}
	}
	if err := OneOf("kind", "tea", []string{"saffron", "argan"}); err.Error() != "kind: must be one of saffron, argan" {
		t.Errorf("OneOf message = %q", err.Error())
	}
}
