package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/avro"
	"github.com/kprod-io/kprod/serde/byname"
	"github.com/kprod-io/kprod/serde/registry"
)

// The MessageReader classes of Confluent's console producers, which
// kafka-avro-console-producer, kafka-json-schema-console-producer and
// kafka-protobuf-console-producer pass to kafka-console-producer's --line-reader.
const (
	avroReader       = "io.confluent.kafka.formatter.AvroMessageReader"
	jsonSchemaReader = "io.confluent.kafka.formatter.json.JsonSchemaMessageReader"
	protobufReader   = "io.confluent.kafka.formatter.protobuf.ProtobufMessageReader"
)

// schemaProps are the reader properties of Confluent's SchemaMessageReader, beside
// the serializer's own (schema.registry.url, auto.register.schemas, ...).
var schemaProps = map[string]bool{
	"value.schema": true, "key.schema": true, "value.schema.id": true, "key.schema.id": true,
	"value.schema.file": true, "key.schema.file": true, "value.refs": true, "key.refs": true,
	"key.serializer": true,
}

// schemaSide turns one side's text from a line into Confluent-framed bytes.
type schemaSide func(topic, text string) ([]byte, error)

// schemaConv is the SchemaMessageReader part of the console producer: it turns a
// line's key and value text into registry-serialized bytes.
type schemaConv struct {
	key, value schemaSide // key is nil when keys stay plain bytes
	closers    []func() error
}

func (c *schemaConv) close() {
	for _, f := range c.closers {
		_ = f()
	}
}

// newSchemaConv builds the converter for reader class (empty: the
// kafka-avro-console-producer's AvroMessageReader) from the reader properties,
// as Confluent's SchemaMessageReader.init does; nil when no schema property and
// no reader are given (plain lines).
func newSchemaConv(reader string, props map[string]string, parseKey bool) (*schemaConv, error) {
	active := reader != ""
	for k := range props {
		if schemaProps[k] || byname.SerializerProperty(k) {
			active = true
		}
	}
	if !active {
		return nil, nil
	}
	if reader == "" {
		reader = avroReader
	}
	var class string
	switch reader {
	case avroReader:
		class = byname.AvroSerializer
	case jsonSchemaReader:
		class = byname.JSONSchemaSerializer
	case protobufReader:
		class = byname.ProtobufSerializer
	default:
		return nil, fmt.Errorf("--line-reader %q: kprod knows %s, %s and %s", reader, avroReader, jsonSchemaReader, protobufReader)
	}
	if strings.TrimSpace(props["schema.registry.url"]) == "" {
		return nil, errors.New("--property schema.registry.url is required with a schema (Confluent: Missing schema registry url!)")
	}
	for _, k := range []string{"value.refs", "key.refs"} {
		if _, ok := props[k]; ok {
			return nil, fmt.Errorf("--property %s: schema references are not supported by kprod produce yet", k)
		}
	}
	c := &schemaConv{}
	var err error
	if c.value, err = c.side(class, props, false); err != nil {
		c.close()
		return nil, err
	}
	if parseKey {
		if ks := strings.TrimSpace(props["key.serializer"]); ks != "" {
			c.key, err = plainKey(ks)
		} else {
			c.key, err = c.side(class, props, true)
		}
		if err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// side builds the serializer of the key or the value from its schema (given as
// text, in a file or by id).
func (c *schemaConv) side(class string, props map[string]string, isKey bool) (schemaSide, error) {
	which := "value"
	if isKey {
		which = "key"
	}
	sp := maps.Clone(props)
	text, id, err := schemaText(which, props)
	if err != nil {
		return nil, err
	}
	if id > 0 {
		// The id is used as given, as the console producer does: fetch its schema
		// and write that id (use.schema.id), registering nothing.
		if text, err = schemaByID(props, id, class); err != nil {
			return nil, fmt.Errorf("--property %s.schema.id=%d: %w", which, id, err)
		}
		sp["use.schema.id"] = strconv.Itoa(id)
		sp["auto.register.schemas"] = "false"
		// Records are written with the id's own schema, so Java's
		// id.compatibility.strict check (reader = writer) always passes: skip it.
		sp["id.compatibility.strict"] = "false"
	}
	prop := which + ".serializer"
	sp[prop] = class
	switch class {
	case byname.AvroSerializer:
		r, err := avro.NewJSONReader(text)
		if err != nil {
			return nil, fmt.Errorf("--property %s.schema: %w", which, err)
		}
		s, err := build[any](isKey, sp, text)
		if err != nil {
			return nil, err
		}
		c.closers = append(c.closers, s.Close)
		return func(topic, line string) ([]byte, error) {
			v, err := r.Decode([]byte(line))
			if err != nil {
				return nil, err
			}
			return s.Serialize(topic, v)
		}, nil
	case byname.ProtobufSerializer:
		// ProtobufMessageReader: the line is the message in protojson (a JSON
		// object), merged into a message of the schema's first message type.
		return c.jsonLines(isKey, sp, text)
	default: // JSON Schema: the line is the JSON value, checked against the schema
		if _, ok := sp["json.fail.invalid.schema"]; !ok {
			sp["json.fail.invalid.schema"] = "true" // JsonSchemaMessageReader validates each line
		}
		return c.jsonLines(isKey, sp, text)
	}
}

// jsonLines builds a serializer taking each line as one JSON value (JSON Schema's and
// Protobuf's readers); a line that is not JSON fails alone.
func (c *schemaConv) jsonLines(isKey bool, sp map[string]string, text string) (schemaSide, error) {
	s, err := build[json.RawMessage](isKey, sp, text)
	if err != nil {
		return nil, err
	}
	c.closers = append(c.closers, s.Close)
	return func(topic, line string) ([]byte, error) {
		if !json.Valid([]byte(line)) {
			return nil, fmt.Errorf("not JSON: %q", line)
		}
		return s.Serialize(topic, json.RawMessage(line))
	}, nil
}

func build[T any](isKey bool, props map[string]string, schema string) (*byname.Serializer[T], error) {
	var s *byname.Serializer[T]
	var err error
	if isKey {
		s, err = byname.Key[T](props, byname.Schema(schema))
	} else {
		s, err = byname.Value[T](props, byname.Schema(schema))
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// schemaText reads which's schema from which.schema, which.schema.file or (as
// id) which.schema.id, in SchemaMessageReader's order: the id first.
func schemaText(which string, props map[string]string) (string, int, error) {
	if v, ok := props[which+".schema.id"]; ok {
		id, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || id < 1 {
			return "", 0, fmt.Errorf("--property %s.schema.id=%s: must be a schema id (a positive integer)", which, v)
		}
		return "", id, nil
	}
	if v, ok := props[which+".schema"]; ok {
		return v, 0, nil
	}
	if f, ok := props[which+".schema.file"]; ok {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", 0, fmt.Errorf("--property %s.schema.file: %w", which, err)
		}
		return string(b), 0, nil
	}
	return "", 0, fmt.Errorf("must provide the %s schema in either --property %s.schema, %s.schema.id or %s.schema.file", which, which, which, which)
}

// schemaByID fetches the schema with id from the registry the properties name.
func schemaByID(props map[string]string, id int, class string) (string, error) {
	rc, _, err := registry.ParseProperties(props)
	if err != nil {
		return "", err
	}
	cl, err := registry.New(rc)
	if err != nil {
		return "", err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := cl.SchemaByID(ctx, id)
	if err != nil {
		return "", err
	}
	want := "AVRO"
	switch class {
	case byname.JSONSchemaSerializer:
		want = "JSON"
	case byname.ProtobufSerializer:
		want = "PROTOBUF"
	}
	if got := s.Type; got != want && !(want == "AVRO" && got == "") {
		return "", fmt.Errorf("schema %d is %s, not %s", id, got, want)
	}
	return s.Text, nil
}

// plainKey serializes a key with one of Kafka's own serializers, as
// SchemaMessageReader does when key.serializer is set: numbers are parsed from
// the key text.
func plainKey(class string) (schemaSide, error) {
	num := func(bits int) schemaSide {
		return func(_, text string) ([]byte, error) {
			n, err := strconv.ParseInt(strings.TrimSpace(text), 10, bits)
			if err != nil {
				return nil, fmt.Errorf("%q is not a %d-bit integer for key.serializer %s", text, bits, class)
			}
			switch bits {
			case 16:
				return serde.Int16().Serialize("", int16(n))
			case 32:
				return serde.Int32().Serialize("", int32(n))
			}
			return serde.Int64().Serialize("", n)
		}
	}
	switch class {
	case byname.StringSerializer, byname.ByteArraySerializer:
		return func(_, text string) ([]byte, error) { return []byte(text), nil }, nil
	case byname.LongSerializer:
		return num(64), nil
	case byname.IntegerSerializer:
		return num(32), nil
	case byname.ShortSerializer:
		return num(16), nil
	}
	return nil, fmt.Errorf("--property key.serializer=%s: the console producer takes StringSerializer, ByteArraySerializer, LongSerializer, IntegerSerializer or ShortSerializer", class)
}
