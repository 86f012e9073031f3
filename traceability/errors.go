package traceability

// FieldError reports that one field of an input is invalid. It exists so the
// web layer can answer 400 with the offending field named, without parsing
// messages: Field is the snake_case JSON path of the field, Message says what
// is wrong in words a cooperative manager can act on.
type FieldError struct {
	Field   string
	Message string
}

// Error returns "field: message".
func (e *FieldError) Error() string {
	return e.Field + ": " + e.Message
}

// WithPrefix returns a copy of e whose Field is nested under prefix, so a
// rule written for "quantity" can report "inputs[2].quantity" when the caller
// validated the third input. The receiver is left unchanged because the same
// error value may be shared.
func (e *FieldError) WithPrefix(prefix string) *FieldError {
	if prefix == "" {
		return &FieldError{Field: e.Field, Message: e.Message}
	}
	return &FieldError{Field: prefix + "." + e.Field, Message: e.Message}
}
