package avro

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/avro"
)

// ValueError reports a value that does not match the serializer's schema. The
// serializer returns it inside a *serde.SerializationError, before the schema is
// registered and before anything is sent: the record was certainly not written,
// and retrying the same value fails again.
type ValueError struct {
	// Schema is the schema's full name ("com.example.Customer"), "" if unnamed.
	Schema string
	// Field is the dotted path of the offending field from the top-level record
	// ("address.zip", "lines[2].sku"), "" for the top-level value itself.
	Field string
	// Err is the encoder's error.
	Err error
}

// Error returns a message such as
// `avro: com.example.Customer field "email": cannot use int with Avro type string`.
func (e *ValueError) Error() string {
	var b strings.Builder
	b.WriteString("avro: ")
	if e.Schema != "" {
		b.WriteString(e.Schema)
		b.WriteByte(' ')
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %q: ", e.Field)
	} else {
		b.WriteString("value: ")
	}
	b.WriteString(e.detail())
	return b.String()
}

// detail is Err's message without its own field path and "avro: " prefix, which
// Error already gives.
func (e *ValueError) detail() string {
	if e.Err == nil {
		return "does not match the schema"
	}
	var se *avro.SemanticError
	if errors.As(e.Err, &se) && se.Field != "" {
		c := *se
		c.Field = ""
		return strings.TrimPrefix(c.Error(), "avro: ")
	}
	return strings.TrimPrefix(e.Err.Error(), "avro: ")
}

// Unwrap returns the encoder's error.
func (e *ValueError) Unwrap() error { return e.Err }

func newValueError(schema string, err error) *ValueError {
	var ve *ValueError
	if errors.As(err, &ve) { // from the key check, with a path from the top
		ve.Schema = schema
		return ve
	}
	ve = &ValueError{Schema: schema, Err: err}
	var se *avro.SemanticError
	if errors.As(err, &se) {
		ve.Field = se.Field
	}
	return ve
}
