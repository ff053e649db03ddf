package jsonschema

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	js "github.com/santhosh-tekuri/jsonschema/v6"
)

// baseURL is where a schema without "$id" and its references live while compiling:
// a reference named "address.json" resolves to baseURL's folder, as a registry
// reference name does in Confluent's provider. Nothing is ever fetched from it.
const baseURL = "mem://kprod/"

// rootURL is the compiled schema's own location under baseURL.
const rootURL = baseURL + "schema.json"

// errNoLoading refuses every resource the compiler was not given: a schema's "$ref"
// to a file or a web address must not make the producer read the disk or the network.
var errNoLoading = errors.New("only the schema and its references given to the serializer can be referenced")

type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("%w, not %s", errNoLoading, u)
}

// parseSchema reads a schema text as Confluent's JSON Schema provider accepts it: JSON
// whose root is an object or a boolean.
func parseSchema(text string) (any, error) {
	doc, err := js.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	switch doc.(type) {
	case map[string]any, bool:
		return doc, nil
	}
	return nil, fmt.Errorf("schema must be a JSON object or boolean, not %s", jsonKind(doc))
}

// compile compiles a parsed schema with its references (name -> text). Drafts follow
// Confluent's provider: "$schema" picks one, draft 7 otherwise.
func compile(doc any, refs []Reference) (*js.Schema, error) {
	c := js.NewCompiler()
	c.DefaultDraft(js.Draft7)
	c.UseLoader(noLoader{})
	id := schemaID(doc)
	for _, r := range refs {
		rdoc, err := parseSchema(r.Text)
		if err != nil {
			return nil, fmt.Errorf("reference %q: %w", r.Name, err)
		}
		for _, u := range refURLs(id, r.Name) {
			if err := c.AddResource(u, rdoc); err != nil {
				var exists *js.ResourceExistsError
				if errors.As(err, &exists) {
					continue // the same name twice, or a name equal to its resolved form
				}
				return nil, fmt.Errorf("reference %q: %w", r.Name, err)
			}
		}
	}
	if err := c.AddResource(rootURL, doc); err != nil {
		return nil, err
	}
	sch, err := c.Compile(rootURL)
	if err != nil {
		return nil, fmt.Errorf("compiling the schema: %w", err)
	}
	return sch, nil
}

// refURLs gives the locations a reference name is known by, as in Confluent's
// provider: the name resolved against the schema's "$id" when it has one (Everit, drafts
// 4 to 7), and against the default base (json-sKema, 2019-09 and 2020-12), or the name
// itself when it is an absolute URL.
func refURLs(id *url.URL, name string) []string {
	u, err := url.Parse(name)
	if err != nil {
		return []string{baseURL + strings.TrimPrefix(name, "/")}
	}
	if u.IsAbs() {
		return []string{name}
	}
	urls := []string{baseURL + strings.TrimPrefix(name, "/")}
	if id != nil {
		urls = append(urls, id.ResolveReference(u).String())
	}
	return urls
}

// schemaID returns the root's "$id" (draft 4: "id") when it is an absolute URL.
func schemaID(doc any) *url.URL {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	for _, kw := range []string{"$id", "id"} {
		if s, ok := m[kw].(string); ok {
			if u, err := url.Parse(s); err == nil && u.IsAbs() {
				return u
			}
		}
	}
	return nil
}

// title returns the schema's "title" as Jackson's asText gives it, which is the record
// name Confluent's JsonSchema.name() returns for the record-name subject strategies;
// "" when there is none (those strategies then fail, as in Java).
func title(doc any) string {
	m, ok := doc.(map[string]any)
	if !ok {
		return ""
	}
	t, ok := m["title"]
	if !ok {
		return ""
	}
	switch t := t.(type) {
	case string:
		return t
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(t)
	case fmt.Stringer: // json.Number
		return t.String()
	}
	return "" // an object or array: Jackson's asText is empty
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "number"
}
