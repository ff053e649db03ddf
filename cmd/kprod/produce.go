package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/serde/byname"
)

var produceFlags = []flagSpec{
	{name: "bootstrap-server", help: "host:port,...; default: an embedded in-process cluster"},
	{name: "topic", help: "topic to produce to (required)"},
	{name: "property", multi: true, help: "reader properties: parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, headers.key.separator, null.marker, ignore.error; with a schema registry, as Confluent's console producers: schema.registry.url, value.schema, value.schema.file, value.schema.id, key.schema, key.schema.file, key.schema.id, key.serializer and the serializer's properties (auto.register.schemas, ...)"},
	{name: "line-reader", help: "the console producer's reader class: io.confluent.kafka.formatter.AvroMessageReader (the default when a schema property is given: lines in Avro's JSON encoding), io.confluent.kafka.formatter.json.JsonSchemaMessageReader (JSON lines) or io.confluent.kafka.formatter.protobuf.ProtobufMessageReader (protojson lines, .proto schemas)"},
	{name: "reader-property", multi: true, help: "alias of --property (Kafka 4.2+)"},
	{name: "producer-property", multi: true, help: "producer properties as key=value ..."},
	{name: "command-property", multi: true, help: "alias of --producer-property (Kafka 4.2+)"},
	{name: "producer.config", help: "producer properties file"},
	{name: "command-config", help: "alias of --producer.config (Kafka 4.2+)"},
	{name: "sync", bool: true, help: "send each record synchronously"},
	{name: "transactional-id", help: "send the lines in transactions with this transactional.id"},
	{name: "transaction-size", help: "lines per transaction with --transactional-id (default 100); the rest at end of input"},
	{name: "partitions", help: "partitions of the embedded cluster's auto-created topic (default 1)"},
	{name: "help", bool: true, help: "show this help"},
}

const produceSummary = "Reads records from standard input, one per line, as kafka-console-producer does."

func runProduce(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a, err := parseArgs(produceFlags, args)
	if err == nil && a.has("version") {
		fmt.Fprint(stdout, versionText())
		return 0
	}
	if err != nil || a.has("help") {
		if err != nil {
			fmt.Fprintf(stderr, "kprod produce: %v\n\n", err)
		}
		fmt.Fprint(stderr, usage("produce", produceSummary, produceFlags))
		if err != nil {
			return 2
		}
		return 0
	}
	failed, err := produce(ctx, a, stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kprod produce: %v\n", err)
		return 1
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "kprod produce: %d line(s) failed\n", failed)
		return 1
	}
	return 0
}

// lineReader is the console producer's LineMessageReader.
type lineReader struct {
	parseKey, parseHeaders, ignoreError            bool
	keySep, headersDelim, headersSep, headerKeySep string
	nullMarker                                     string
	conv                                           *schemaConv // registry serialization, nil for plain lines
}

func newLineReader(props map[string]string) (*lineReader, error) {
	r := &lineReader{keySep: "\t", headersDelim: "\t", headersSep: ",", headerKeySep: ":"}
	for k, v := range props {
		switch k {
		case "parse.key":
			r.parseKey = strings.EqualFold(v, "true")
		case "parse.headers":
			r.parseHeaders = strings.EqualFold(v, "true")
		case "ignore.error":
			r.ignoreError = strings.EqualFold(v, "true")
		case "key.separator":
			r.keySep = v
		case "headers.delimiter":
			r.headersDelim = v
		case "headers.separator":
			r.headersSep = v
		case "headers.key.separator":
			r.headerKeySep = v
		case "null.marker":
			r.nullMarker = v
		default:
			if schemaProps[k] || byname.SerializerProperty(k) {
				continue // newSchemaConv reads them
			}
			return nil, fmt.Errorf("unknown reader property %q", k)
		}
	}
	if r.nullMarker != "" && (r.nullMarker == r.keySep || r.nullMarker == r.headersDelim) {
		return nil, errors.New("null.marker must differ from key.separator and headers.delimiter")
	}
	return r, nil
}

// parse turns one line into a record, as Java's LineMessageReader does: optional
// headers (k:v,k2:v2) then the headers delimiter, optional key then the key separator,
// then the value. A missing separator is an error unless ignore.error is set.
func (r *lineReader) parse(topic, line string) (kprod.Record, error) {
	rec := kprod.Record{Topic: topic}
	rest := line
	if r.parseHeaders {
		h, after, ok := strings.Cut(rest, r.headersDelim)
		if !ok {
			if !r.ignoreError {
				return rec, fmt.Errorf("no headers delimiter %q found in line %q", r.headersDelim, line)
			}
		} else {
			rest = after
			if h != r.nullMarker || r.nullMarker == "" {
				for _, kv := range strings.Split(h, r.headersSep) {
					if kv == "" {
						continue
					}
					k, v, ok := strings.Cut(kv, r.headerKeySep)
					hd := kprod.Header{Key: k}
					if ok && (r.nullMarker == "" || v != r.nullMarker) {
						hd.Value = []byte(v)
					}
					rec.Headers = append(rec.Headers, hd)
				}
			}
		}
	}
	if r.parseKey {
		k, after, ok := strings.Cut(rest, r.keySep)
		if !ok {
			if !r.ignoreError {
				return rec, fmt.Errorf("no key separator %q found in line %q", r.keySep, line)
			}
		} else {
			rest = after
			if r.nullMarker == "" || k != r.nullMarker {
				rec.Key = []byte(k)
			}
		}
	}
	if r.nullMarker == "" || rest != r.nullMarker {
		rec.Value = []byte(rest)
	}
	if r.conv != nil {
		return r.serialize(rec)
	}
	return rec, nil
}

// serialize replaces the key and value text with their registry serialization; a
// null (null.marker) stays null, a tombstone that registers nothing.
func (r *lineReader) serialize(rec kprod.Record) (kprod.Record, error) {
	var err error
	if rec.Key != nil && r.conv.key != nil {
		if rec.Key, err = r.conv.key(rec.Topic, string(rec.Key)); err != nil {
			return rec, fmt.Errorf("key: %w", err)
		}
	}
	if rec.Value != nil {
		if rec.Value, err = r.conv.value(rec.Topic, string(rec.Value)); err != nil {
			return rec, fmt.Errorf("value: %w", err)
		}
	}
	return rec, nil
}

func produce(ctx context.Context, a parsed, stdin io.Reader, stderr io.Writer) (int64, error) {
	topic := a.str("topic", "")
	if topic == "" {
		return 0, errors.New("--topic is required")
	}
	fileProps, err := readerConfig(a)
	if err != nil {
		return 0, err
	}
	readerProps, err := splitProps(append(append(fileProps, a.all("property")...), a.all("reader-property")...))
	if err != nil {
		return 0, err
	}
	lr, err := newLineReader(readerProps)
	if err != nil {
		return 0, err
	}
	if lr.conv, err = newSchemaConv(a.str("line-reader", ""), readerProps, lr.parseKey); err != nil {
		return 0, err
	}
	if lr.conv != nil {
		defer lr.conv.close()
	}
	parts := 1
	fmt.Sscan(a.str("partitions", "1"), &parts)
	cfg, closeCluster, err := producerConfig(a.str("producer.config", a.str("command-config", "")),
		append(append(a.all("producer-property"), a.all("command-property")...), consoleSettingProps(a)...),
		a.str("bootstrap-server", ""), max(parts, 1), stderr)
	if err != nil {
		return 0, err
	}
	defer closeCluster()
	txnID := a.str("transactional-id", "")
	if txnID != "" {
		cfg.TransactionalID = txnID
	}
	// With spool.dir, lines an earlier run left in the spool (killed, or closed while
	// the cluster was unreachable) are delivered first; they are counted here.
	var recovered, recoveredFailed atomic.Int64
	p, err := kprod.NewProducer(cfg, kprod.WithSpoolRecovered(func(_ kprod.RecordMetadata, err error) {
		if err != nil {
			recoveredFailed.Add(1)
			fmt.Fprintf(stderr, "kprod produce: a line left in spool.dir by an earlier run failed: %v\n", err)
			return
		}
		recovered.Add(1)
	}))
	if err != nil {
		return 0, err
	}
	if txnID != "" {
		size := 100
		if s := a.str("transaction-size", ""); s != "" {
			if _, err := fmt.Sscan(s, &size); err != nil || size < 1 {
				p.Close(context.Background())
				return 0, errors.New("--transaction-size must be a positive number")
			}
		}
		failed, err := produceTransactional(ctx, p, lr, topic, size, stdin, stderr)
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if cerr := p.Close(closeCtx); cerr != nil && err == nil {
			err = cerr
		}
		return failed, err
	}
	var failed, spooled atomic.Int64
	var wg sync.WaitGroup
	fail := func(lineNo int, state string, err error) {
		if errors.Is(err, kprod.ErrSpooled) {
			spooled.Add(1) // not failed: the next run on the same spool.dir delivers it
			return
		}
		failed.Add(1)
		fmt.Fprintf(stderr, "kprod produce: line %d (%s): %v\n", lineNo, state, err)
	}
	report := func(lineNo int, err error) { fail(lineNo, writtenState(err), err) }
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	lineNo := 0
	for sc.Scan() && ctx.Err() == nil {
		lineNo++
		rec, err := lr.parse(topic, sc.Text())
		if err != nil {
			fail(lineNo, "not written", err)
			continue
		}
		if a.has("sync") {
			if _, err := p.SendSync(ctx, &rec); err != nil {
				report(lineNo, err)
			}
			continue
		}
		n := lineNo
		wg.Add(1)
		if err := p.Send(ctx, &rec, func(_ kprod.RecordMetadata, err error) {
			defer wg.Done()
			if err != nil {
				report(n, err)
			}
		}); err != nil {
			wg.Done()
			report(n, err)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(stderr, "kprod produce: reading stdin: %v\n", err)
		failed.Add(1)
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := p.Close(closeCtx); err != nil && !errors.Is(err, kprod.ErrSpooled) {
		fmt.Fprintf(stderr, "kprod produce: %v\n", err)
	}
	wg.Wait()
	if n := recovered.Load(); n > 0 {
		fmt.Fprintf(stderr, "kprod produce: delivered %d line(s) left in spool.dir by an earlier run\n", n)
	}
	if n := spooled.Load(); n > 0 {
		// Not delivered, not lost: the exit status says so (1), the spool keeps them.
		return failed.Load() + recoveredFailed.Load(), fmt.Errorf("%d line(s) not delivered yet: they stay in spool.dir=%s, which the next run with that spool.dir delivers",
			n, cfg.SpoolDir)
	}
	return failed.Load() + recoveredFailed.Load(), nil
}

// writtenState says whether a failed line's record may be in the topic: a retry by hand
// may duplicate it ("may have been written") or cannot ("not written").
func writtenState(err error) string {
	if kprod.MaybeWritten(err) {
		return "may have been written"
	}
	return "not written"
}
