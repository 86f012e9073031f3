package traceability

import "github.com/terroir-coop/terroir/internal/problem"

// FieldError reports that one field of an input is invalid: Field is the
// snake_case JSON path of the field, Message says what is wrong in words a
// cooperative manager can act on. It is the project-wide *problem.Error with
// code Invalid, so web answers it with 400 naming the field.
type FieldError = problem.Error

// refusal is a problem of any code naming the field at fault. Like
// problem.New and problem.Field, its message is an English format string
// with its arguments: the key of the message catalogue that translates it.
func refusal(code problem.Code, field, format string, args ...any) *problem.Error {
	err := problem.New(code, format, args...)
	err.Field = field
	return err
}
