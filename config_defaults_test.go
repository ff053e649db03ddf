package kprod

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/config"
	"github.com/kprod-io/kprod/internal/tlsconf"
)

// codeOnlyFields are Config fields set only from Go code, with no Java property
// (interceptors, custom partitioners, ...). Add such fields here.
var codeOnlyFields = map[string]bool{"TLS": true}

// nestedConfigs are Config fields that group properties; their fields are the
// table's, written "SSL.Name".
var nestedConfigs = map[string]bool{"SSL": true}

// configFields lists the settable fields of a Config value by table name, the
// nested groups' fields flattened.
func configFields(v reflect.Value) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if nestedConfigs[name] {
			for n, f := range configFields(v.Field(i)) {
				out[name+"."+n] = f
			}
			continue
		}
		out[name] = v.Field(i)
	}
	return out
}

func TestConfigTableCoversEveryField(t *testing.T) {
	rows := map[string]string{}
	for _, e := range ConfigTable() {
		if e.Field == "" {
			continue
		}
		if prev, dup := rows[e.Field]; dup {
			t.Errorf("field %s is set by both %s and %s", e.Field, prev, e.Property)
		}
		rows[e.Field] = e.Property
	}
	fields := configFields(reflect.ValueOf(Config{}))
	for f, p := range rows {
		if _, ok := fields[f]; !ok {
			t.Errorf("table row %s names unknown field %s", p, f)
		}
	}
	for name := range fields {
		if _, ok := rows[name]; !ok && !codeOnlyFields[name] {
			t.Errorf("Config.%s has no row in configTable (or add it to codeOnlyFields)", name)
		}
	}
}

func TestConfigTableRowsAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range configTable {
		if seen[p.Property] {
			t.Errorf("property %s listed twice", p.Property)
		}
		seen[p.Property] = true
		if p.Doc == "" || (p.set == nil) == (p.num == nil) {
			t.Errorf("property %s lacks Doc, or has not exactly one of set and num", p.Property)
		}
		if strings.ContainsAny(p.Doc+p.Default, "|\n") {
			t.Errorf("property %s: Doc or Default would break a Markdown table", p.Property)
		}
		if (p.Field == "") != (p.get == nil) {
			t.Errorf("property %s: get must exist exactly when Field does", p.Property)
		}
	}
	if errJavaDefaults != nil {
		t.Fatalf("table defaults do not parse: %v", errJavaDefaults)
	}
}

// TestConfigTableSetsItsField checks each row's setter writes the field the row names.
func TestConfigTableSetsItsField(t *testing.T) {
	for _, p := range configTable {
		if p.Field == "" {
			continue
		}
		sample, ok := sampleValues[p.Property]
		if !ok {
			t.Errorf("no sample value for %s", p.Property)
			continue
		}
		var c Config
		if err := p.parse(&c, sample); err != nil {
			t.Errorf("%s=%s: %v", p.Property, sample, err)
			continue
		}
		for name, f := range configFields(reflect.ValueOf(c)) {
			if changed := !f.IsZero(); changed != (name == p.Field) {
				t.Errorf("%s=%s: field %s changed=%v", p.Property, sample, name, changed)
			}
		}
	}
}

// javaDocDefaults are Kafka 4.x's producer defaults as java-producer.md and Kafka's
// documentation list them; the table must agree.
var javaDocDefaults = map[string]string{
	"acks": "all", "enable.idempotence": "true", "retries": "2147483647",
	"delivery.timeout.ms": "120000", "request.timeout.ms": "30000",
	"max.in.flight.requests.per.connection": "5", "retry.backoff.ms": "100",
	"retry.backoff.max.ms": "1000", "linger.ms": "5", "batch.size": "16384",
	"buffer.memory": "33554432", "max.block.ms": "60000", "max.request.size": "1048576",
	"compression.type": "none", "compression.gzip.level": "-1", "compression.lz4.level": "9",
	"compression.zstd.level": "3", "partitioner.class": "null", "partitioner.ignore.keys": "false",
	"partitioner.adaptive.partitioning.enable": "true", "partitioner.availability.timeout.ms": "0",
	"interceptor.classes": "", "transactional.id": "null", "transaction.timeout.ms": "60000",
	"metadata.max.age.ms": "300000", "metadata.max.idle.ms": "300000",
	"connections.max.idle.ms": "540000", "send.buffer.bytes": "131072",
	"receive.buffer.bytes": "32768", "reconnect.backoff.ms": "50", "reconnect.backoff.max.ms": "1000",
	"socket.connection.setup.timeout.ms": "10000", "socket.connection.setup.timeout.max.ms": "30000",
	"security.protocol": "PLAINTEXT", "client.id": "", "bootstrap.servers": "",
	"ssl.protocol": "TLSv1.3", "ssl.enabled.protocols": "TLSv1.2,TLSv1.3", "ssl.cipher.suites": "null",
	"ssl.endpoint.identification.algorithm": "https", "ssl.provider": "null",
	"ssl.keystore.type": "JKS", "ssl.keystore.location": "null", "ssl.keystore.password": "null",
	"ssl.key.password": "null", "ssl.keystore.key": "null", "ssl.keystore.certificate.chain": "null",
	"ssl.truststore.type": "JKS", "ssl.truststore.location": "null", "ssl.truststore.password": "null",
	"ssl.truststore.certificates": "null", "ssl.keymanager.algorithm": "SunX509",
	"ssl.trustmanager.algorithm": "PKIX", "ssl.secure.random.implementation": "null",
	"ssl.engine.factory.class": "null",
}

func TestConfigTableMatchesJavaDocs(t *testing.T) {
	table := map[string]string{}
	for _, e := range ConfigTable() {
		table[e.Property] = e.Default
	}
	for prop, want := range javaDocDefaults {
		got, ok := table[prop]
		if !ok {
			t.Errorf("%s missing from the table", prop)
		} else if got != want {
			t.Errorf("%s default = %q, Java's is %q", prop, got, want)
		}
	}
}

// TestResolvedZeroConfigMatchesTable checks the zero Config resolves to the table's
// defaults, printed back through Properties.
func TestResolvedZeroConfigMatchesTable(t *testing.T) {
	c := Config{BootstrapServers: []string{"localhost:9092"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	props := c.Properties()
	for _, e := range ConfigTable() {
		if e.Field == "" || e.Property == "bootstrap.servers" {
			continue
		}
		got, ok := props[e.Property]
		if e.Default == "" || e.Default == "null" {
			if ok {
				t.Errorf("%s resolved to %q, want unset", e.Property, got)
			}
			continue
		}
		if got != e.Default {
			t.Errorf("%s resolved to %q, table default %q", e.Property, got, e.Default)
		}
	}
}

// TestResolvedZeroConfig spells the resolved defaults out, independently of the table.
func TestResolvedZeroConfig(t *testing.T) {
	c := Config{BootstrapServers: []string{"localhost:9092"}, ClientID: "x"}
	got, err := c.resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := config.Settings{
		BootstrapServers:                []string{"localhost:9092"},
		ClientID:                        "x",
		Acks:                            -1,
		Idempotent:                      true,
		TransactionTimeout:              time.Minute,
		Retries:                         2147483647,
		DeliveryTimeout:                 2 * time.Minute,
		RequestTimeout:                  30 * time.Second,
		RetryBackoff:                    100 * time.Millisecond,
		RetryBackoffMax:                 time.Second,
		Linger:                          5 * time.Millisecond,
		BatchSize:                       16384,
		BufferMemory:                    32 << 20,
		MaxBlock:                        time.Minute,
		MaxRequestSize:                  1 << 20,
		MaxInFlight:                     5,
		Codec:                           0,
		GzipLevel:                       -1,
		LZ4Level:                        9,
		ZstdLevel:                       3,
		Partitioner:                     0,
		PartitionerAdaptive:             true,
		MetadataMaxAge:                  5 * time.Minute,
		MetadataMaxIdle:                 5 * time.Minute,
		ConnectionsMaxIdle:              9 * time.Minute,
		MetricsSampleWindow:             30 * time.Second,
		MetricsNumSamples:               2,
		SocketConnectionSetupTimeout:    10 * time.Second,
		SocketConnectionSetupTimeoutMax: 30 * time.Second,
		ReconnectBackoff:                50 * time.Millisecond,
		ReconnectBackoffMax:             time.Second,
		SendBufferBytes:                 131072,
		ReceiveBufferBytes:              32768,
		SpoolMaxBytes:                   1 << 30,
		SpoolSyncInterval:               time.Second,
		SecurityProtocol:                "PLAINTEXT",
		SSL: tlsconf.Settings{Protocol: "TLSv1.3", EnabledProtocols: []string{"TLSv1.2", "TLSv1.3"},
			EndpointIdentification: "https", TruststoreType: "JKS", KeystoreType: "JKS"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolve() =\n%+v\nwant\n%+v", got, want)
	}
}
