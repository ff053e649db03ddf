package registry

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzResponse feeds the decoders of registry answers arbitrary bodies: they must
// never panic, and an error's message stays bounded and valid UTF-8 whatever the
// registry sends.
func FuzzResponse(f *testing.F) {
	for _, s := range []string{
		`{"id":1}`, `{"schema":"\"int\"","schemaType":"PROTOBUF","references":[{"name":"a","subject":"b","version":1}]}`,
		`{"error_code":40401,"message":"Subject 'x' not found."}`, `{"error_code":1e999}`, `[`, "\xff", `{"references":[null]}`,
		`{"message":"` + strings.Repeat("é", 600) + `"}`,
	} {
		f.Add(404, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := responseError("GET /x", "http://h", status, body)
		if len(e.Message) > maxMessage+3 || !utf8.ValidString(e.Message) {
			t.Fatalf("message of %d bytes, valid UTF-8 %v", len(e.Message), utf8.ValidString(e.Message))
		}
		_ = e.Error()
		_ = e.Retriable()
		var b schemaBody
		if decodeBody(body, &b) == nil {
			s := b.schema()
			if s.Type == "" {
				t.Fatal("decoded schema without a type")
			}
		}
	})
}
