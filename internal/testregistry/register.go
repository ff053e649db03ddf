package testregistry

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// Ref is a schema reference, as the registry's API names it.
type Ref struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// Register registers text (schemaType "JSON", "PROTOBUF" or "" for Avro) under
// subject, as another producer would have, and returns its id and version.
func Register(t testing.TB, registryURL, subject, schemaType, text string, refs ...Ref) (id, version int) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"schema": text, "schemaType": schemaType, "references": refs})
	post := func(path string) map[string]any {
		resp, err := http.Post(registryURL+path, "application/vnd.schemaregistry.v1+json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: HTTP %d %v, %v", path, resp.StatusCode, v, err)
		}
		return v
	}
	subj := "/subjects/" + url.PathEscape(subject)
	post(subj + "/versions")
	v := post(subj) // the register answer has only the id; the lookup has both
	idf, _ := v["id"].(float64)
	vf, _ := v["version"].(float64)
	return int(idf), int(vf)
}

// UseRegistrySchema returns serializer properties that write with a schema already
// in the registry, registering nothing: the subject's latest (use.latest.version)
// when id is 0, else id (use.schema.id).
func UseRegistrySchema(registryURL string, id int) map[string]string {
	props := map[string]string{"schema.registry.url": registryURL, "auto.register.schemas": "false"}
	if id == 0 {
		props["use.latest.version"] = "true"
	} else {
		props["use.schema.id"] = strconv.Itoa(id)
	}
	return props
}
