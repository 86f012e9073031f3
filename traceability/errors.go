package traceability

import "github.com/terroir-coop/terroir/internal/problem"

// FieldError reports that one field of an input is invalid: Field is the
// snake_case JSON path of the field, Message says what is wrong in words a
// cooperative manager can act on. It is the project-wide *problem.Error with
// code Invalid, so web answers it with 400 naming the field.
type FieldError = problem.Error
