// Package serdes puts kprod's registry serializers beside its peers' on one
// record, the seeds' Customer, so their per-record cost can be compared
// (BenchmarkAvro, BenchmarkJSON) and their outputs cross-checked (TestCrossDecode).
//
// Every serializer resolves its schema id against one in-process registry,
// franz-go's srfake, before the first measured record: what is measured is the
// per-record path with the id cached, as in a producer's steady state.
package serdes

import (
	"context"
	"encoding/json"
	"fmt"

	hamba "github.com/hamba/avro/v2"
	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	avroserde "github.com/kprod-io/kprod/serde/avro"
	jsserde "github.com/kprod-io/kprod/serde/jsonschema"
	"github.com/kprod-io/kprod/serde/registry"
)

// Topic is the seeds' topic; the subjects are its TopicNameStrategy ones.
const (
	Topic        = "customerContacts"
	ValueSubject = Topic + "-value"
)

// AvroSchema is the seeds' Customer schema (KafkaAvroSerializer example), with
// the email default written as JSON null, as kprod's Example_customer has it:
// the seed's "null" string is not a valid default for a union led by null.
const AvroSchema = `{"namespace": "customerManagement.avro", "type": "record", "name": "Customer",
  "fields": [{"name": "id", "type": "int"}, {"name": "name", "type": "string"},
             {"name": "email", "type": ["null", "string"], "default": null}]}`

// JSONSchema is the same record as a JSON Schema (KafkaJsonSchemaSerializer).
const JSONSchema = `{"$schema": "http://json-schema.org/draft-07/schema#", "title": "Customer",
  "type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
  "email": {"type": ["null", "string"]}}, "required": ["id", "name"], "additionalProperties": false}`

// Customer is the seeds' record. twmb/avro (kprod) and hamba/avro read the
// same avro tags; encoding/json the json ones.
type Customer struct {
	ID    int32   `avro:"id" json:"id"`
	Name  string  `avro:"name" json:"name"`
	Email *string `avro:"email" json:"email"`
}

// Sample is the record every benchmark serializes: the email set, so the
// union's string branch is written.
func Sample() *Customer {
	email := "yifan@example.com"
	return &Customer{ID: 1, Name: "yifan", Email: &email}
}

// SampleMap is Sample as a generic map, for the map-based serializers.
func SampleMap() map[string]any {
	c := Sample()
	return map[string]any{"id": c.ID, "name": c.Name, "email": *c.Email}
}

// GoavroNative is Sample in goavro's native form: a union branch is a
// one-entry map naming its type.
func GoavroNative() map[string]any {
	c := Sample()
	return map[string]any{"id": c.ID, "name": c.Name, "email": goavro.Union("string", *c.Email)}
}

// Set holds every serializer, each with its schema id already resolved.
type Set struct {
	Registry *srfake.Registry
	AvroID   int // the Customer Avro schema's id, as kprod registered it
	JSONID   int

	KprodStruct *avroserde.Serializer[*Customer]
	KprodMap    *avroserde.Serializer[map[string]any]
	KprodJSON   *jsserde.Serializer[*Customer]

	FranzHamba *sr.Serde // franz-go pkg/sr Serde encoding with hamba/avro
	FranzJSON  *sr.Serde // franz-go pkg/sr Serde encoding with encoding/json
	Goavro     *goavro.Codec

	clients []*registry.Client
}

// New starts a fake registry and builds every serializer against it; kprod's
// register their schemas on a first record here, the peers' are given the ids
// their registry client gets back for the same text.
func New() (*Set, error) {
	s := &Set{Registry: srfake.New()}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	client := func() (*registry.Client, error) {
		c, err := registry.New(registry.Config{URLs: []string{s.Registry.URL()}})
		if err == nil {
			s.clients = append(s.clients, c)
		}
		return c, err
	}

	c, err := client()
	if err != nil {
		return nil, err
	}
	if s.KprodStruct, err = avroserde.NewSerializer[*Customer](AvroSchema, avroserde.Config{Client: c}); err != nil {
		return nil, err
	}
	if s.KprodMap, err = avroserde.NewSerializer[map[string]any](AvroSchema, avroserde.Config{Client: c}); err != nil {
		return nil, err
	}
	if s.KprodJSON, err = jsserde.NewSerializer[*Customer](registry.NewResolver(c, registry.SerdeConfig{}, false), JSONSchema, jsserde.Options{}); err != nil {
		return nil, err
	}
	// First records: the registry is asked here, never in the measured loop.
	b, err := s.KprodStruct.Serialize(Topic, Sample())
	if err != nil {
		return nil, err
	}
	s.AvroID = headerID(b)
	if _, err := s.KprodMap.Serialize(Topic, SampleMap()); err != nil {
		return nil, err
	}
	if b, err = s.KprodJSON.Serialize(Topic, Sample()); err != nil {
		return nil, err
	}
	s.JSONID = headerID(b)

	// franz-go's registry client, as its users write it: register (or find) the
	// schema once, then give the id to a Serde.
	cl, err := sr.NewClient(sr.URLs(s.Registry.URL()))
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	avroSS, err := cl.CreateSchema(ctx, ValueSubject, sr.Schema{Schema: AvroSchema, Type: sr.TypeAvro})
	if err != nil {
		return nil, err
	}
	jsonSS, err := cl.CreateSchema(ctx, Topic+"-json-value", sr.Schema{Schema: JSONSchema, Type: sr.TypeJSON})
	if err != nil {
		return nil, err
	}
	if avroSS.ID != s.AvroID {
		return nil, fmt.Errorf("franz-go's client got id %d for the schema kprod registered as %d", avroSS.ID, s.AvroID)
	}

	// hamba/avro with sr.Serde: the pairing franz-go's own example shows.
	hs, err := hamba.Parse(AvroSchema)
	if err != nil {
		return nil, err
	}
	s.FranzHamba = sr.NewSerde()
	s.FranzHamba.Register(avroSS.ID, &Customer{},
		sr.EncodeFn(func(v any) ([]byte, error) { return hamba.Marshal(hs, v) }),
		sr.DecodeFn(func(b []byte, v any) error { return hamba.Unmarshal(hs, b, v) }))

	s.FranzJSON = sr.NewSerde()
	s.FranzJSON.Register(jsonSS.ID, &Customer{},
		sr.EncodeFn(json.Marshal),
		sr.DecodeFn(json.Unmarshal))

	if s.Goavro, err = goavro.NewCodec(AvroSchema); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// AppendGoavro frames goavro's encoding by hand in Confluent's wire format.
func AppendGoavro(codec *goavro.Codec, dst []byte, id int, native map[string]any) ([]byte, error) {
	return codec.BinaryFromNative(registry.AppendHeader(dst, id), native)
}

func headerID(b []byte) int {
	if len(b) < 5 {
		return -1
	}
	return int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4])
}

// Close stops the registry and the clients.
func (s *Set) Close() {
	for _, c := range s.clients {
		c.Close()
	}
	s.Registry.Close()
}
