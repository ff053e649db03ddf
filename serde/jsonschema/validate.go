package jsonschema

import (
	"bytes"
	"fmt"
	"strings"

	js "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ValidationError reports a value that does not match its schema
// (json.fail.invalid.schema=true). The producer returns it inside a
// *serde.SerializationError: the record was not sent and nothing was buffered.
// Retrying the same value fails the same way.
type ValidationError struct {
	// Pointer is the JSON pointer (RFC 6901) of the first failing field, "" for the
	// whole value; for a missing required property it points at that property.
	Pointer string
	// Keyword is the schema location of the failing keyword, e.g.
	// "/properties/age/minimum".
	Keyword string
	// Message says what failed, e.g. "minimum: got -1, want 0".
	Message string
	// Err is the validator's full report, every failure included.
	Err *js.ValidationError
}

// Error returns a message such as
// `jsonschema: value does not match the schema at "/age": minimum: got -1, want 0`.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("jsonschema: value does not match the schema at %q: %s", e.Pointer, e.Message)
}

// Unwrap returns the validator's full report.
func (e *ValidationError) Unwrap() error { return e.Err }

var printer = message.NewPrinter(language.English)

// validate checks the JSON text enc against sch.
func validate(sch *js.Schema, enc []byte) error {
	inst, err := js.UnmarshalJSON(bytes.NewReader(enc))
	if err != nil {
		return fmt.Errorf("jsonschema: reading back the encoded value: %w", err)
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	ve, ok := err.(*js.ValidationError)
	if !ok {
		return fmt.Errorf("jsonschema: validating: %w", err)
	}
	return newValidationError(ve)
}

// newValidationError names the first failure: it goes down through the report's
// wrappers (the root, $ref, allOf) to the first keyword that failed on its own account.
// A oneOf or anyOf that matched no branch is reported at itself, except when every
// branch but one failed on the value's own type, as the nullable fields Java's schema
// generator writes (oneOf null or T): then the failure inside T is the one that names
// the field.
func newValidationError(ve *js.ValidationError) *ValidationError {
	e := ve
descend:
	for len(e.Causes) > 0 {
		switch k := e.ErrorKind.(type) {
		case *kind.Schema, *kind.Reference, *kind.AllOf, *kind.Group:
			e = e.Causes[0]
		case *kind.OneOf, *kind.AnyOf:
			if o, ok := k.(*kind.OneOf); ok && o.Subschemas != nil {
				break descend // more than one branch matched
			}
			var only *js.ValidationError
			for _, c := range e.Causes {
				if _, ok := c.ErrorKind.(*kind.Type); ok && len(c.InstanceLocation) == len(e.InstanceLocation) {
					continue // the branch wants another type for this very value
				}
				if only != nil {
					break descend
				}
				only = c
			}
			if only == nil {
				break descend
			}
			e = only
		default:
			break descend
		}
	}
	loc := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		if len(k.Missing) == 0 {
			break
		}
		loc = append(loc[:len(loc):len(loc)], k.Missing[0])
	case *kind.AdditionalProperties:
		if len(k.Properties) == 0 {
			break
		}
		loc = append(loc[:len(loc):len(loc)], k.Properties[0])
	}
	frag := ""
	if i := strings.IndexByte(e.SchemaURL, '#'); i >= 0 {
		frag = e.SchemaURL[i+1:]
	}
	return &ValidationError{
		Pointer: pointer(loc),
		Keyword: frag + pointer(e.ErrorKind.KeywordPath()),
		Message: e.ErrorKind.LocalizedString(printer),
		Err:     ve,
	}
}

// pointer joins tokens into a JSON pointer, escaping "~" and "/" (RFC 6901).
func pointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		sb.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return sb.String()
}
