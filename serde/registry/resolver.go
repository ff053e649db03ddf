package registry

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// defaultMaxSchemasPerSubject is Java's max.schemas.per.subject default.
const defaultMaxSchemasPerSubject = 1000

// Resolver turns a record's schema into the schema id to write, as one Java
// serializer instance does for keys or for values. It is safe for concurrent use;
// after the first use of a schema, ID takes no lock and allocates nothing.
type Resolver struct {
	c        *Client
	cfg      SerdeConfig
	isKey    bool
	strategy Strategy
	auto     bool // auto.register.schemas
	strict   bool // latest.compatibility.strict
	idStrict bool // id.compatibility.strict
	maxPer   int
	now      func() time.Time // time.Now; tests replace it
	waiting  atomic.Int32     // callers blocked on another's request, for tests to wait on

	check  atomic.Pointer[CompatibilityCheck]
	passed sync.Map // compatPair -> struct{}: checks that passed, never run again

	// tables is copied on write so that the per-record lookup takes no lock and
	// allocates nothing (a sync.Map would box the key); new schemas are rare.
	tables atomic.Pointer[tables]

	mu         sync.Mutex     // serializes writers of entries; guards perSubject
	perSubject map[string]int // schemas cached per subject, bounded by max.schemas.per.subject
}

// idKey identifies one cached resolution. topic and record hold only what the
// strategy uses, so that one subject is one key; refs is "" for the common case
// (see entry.refs).
type idKey struct {
	topic, record, typ, text, refs string
}

// tables holds the cached resolutions, by schema text and, for the per-record fast
// path, by the address of the text a caller passes: hashing and comparing a schema
// of a few KB on every record costs ~200 ns, its address nothing.
type tables struct {
	byText map[idKey]*entry
	byPtr  map[ptrKey]ptrVal
}

// ptrKey is idKey with the text's address and length in place of its bytes.
type ptrKey struct {
	topic, record, typ string
	text               *byte
	n                  int
}

// ptrVal keeps the text it was keyed by alive, so that its address cannot be reused
// by another text while the alias exists.
type ptrVal struct {
	text string
	e    *entry
}

// maxAliases bounds byPtr: a caller building a new string for every record would
// otherwise grow it without end; past the bound such callers take the slow path.
const maxAliases = 4096

func (k idKey) ptr() ptrKey {
	return ptrKey{topic: k.topic, record: k.record, typ: k.typ, text: unsafe.StringData(k.text), n: len(k.text)}
}

// entry is one resolution, pending until done is closed. Its fields other than
// done and refs are written once before done is closed and only read after.
type entry struct {
	done    chan struct{}
	refs    []Reference
	id      int
	used    Schema
	err     error
	expires time.Time // zero: never (latest.cache.ttl.sec=-1, or not a latest lookup)
	// canceled: the leader's own context had ended when its request failed, so
	// its error says nothing about the registry and a waiter whose context is
	// fine asks again. A transport timeout (http.read.timeout.ms) also Is
	// context.DeadlineExceeded but is the registry's failure: waiters share it.
	canceled bool
}

// NewResolver returns a resolver for keys (isKey) or values using c.
func NewResolver(c *Client, cfg SerdeConfig, isKey bool) *Resolver {
	r := &Resolver{c: c, cfg: cfg, isKey: isKey, auto: true, strict: true, idStrict: true,
		maxPer: defaultMaxSchemasPerSubject, now: time.Now, perSubject: map[string]int{}}
	r.tables.Store(&tables{byText: map[idKey]*entry{}, byPtr: map[ptrKey]ptrVal{}})
	r.strategy = cfg.ValueSubjectNameStrategy
	if isKey {
		r.strategy = cfg.KeySubjectNameStrategy
	}
	if cfg.AutoRegisterSchemas != nil {
		r.auto = *cfg.AutoRegisterSchemas
	}
	if cfg.LatestCompatibilityStrict != nil {
		r.strict = *cfg.LatestCompatibilityStrict
	}
	if cfg.IDCompatibilityStrict != nil {
		r.idStrict = *cfg.IDCompatibilityStrict
	}
	if cfg.MaxSchemasPerSubject > 0 {
		r.maxPer = cfg.MaxSchemasPerSubject
	}
	return r
}

// SetCompatibilityCheck sets how the resolver checks, as Java's
// latest.compatibility.strict and id.compatibility.strict do, that the schema it
// writes with (reader: the subject's latest, or use.schema.id's) can read data
// written with the caller's schema (writer). Checking is schema-language specific,
// so the serializer supplies it; without one the check is skipped. Call it before
// the first ID.
func (r *Resolver) SetCompatibilityCheck(f CompatibilityCheck) {
	r.check.Store(&f)
}

// Subject returns the subject a record of topic named recordName goes under, by
// the resolver's strategy.
func (r *Resolver) Subject(topic, recordName string) (string, error) {
	suffix := "-value"
	if r.isKey {
		suffix = "-key"
	}
	switch r.strategy {
	case TopicNameStrategy:
		return topic + suffix, nil
	case RecordNameStrategy, TopicRecordNameStrategy:
		if recordName == "" {
			return "", fmt.Errorf("kprod: schema registry: %s requires a named record schema (an Avro record, a Protobuf message, a JSON Schema with a title) for the %s", r.strategy, strings.TrimPrefix(suffix, "-"))
		}
		if r.strategy == RecordNameStrategy {
			return recordName, nil
		}
		return topic + "-" + recordName, nil
	}
	return "", fmt.Errorf("kprod: schema registry: unknown subject name strategy %d", int(r.strategy))
}

// ID returns the schema id to write a record of topic with schema s, whose full
// record name (Avro full name, Protobuf message full name, JSON Schema title) is
// recordName, and the schema the id stands for (the registry's schema under
// use.latest.version or use.schema.id, else s).
//
// The subject comes from the strategy. The id comes, in Java's order, from
// registering s (auto.register.schemas), else use.schema.id, else the subject's
// latest version (use.latest.version), else looking s up under the subject. Results
// are cached per subject and schema text; concurrent first uses make one request,
// and a failure is not cached. A use.latest.version result is refreshed after
// latest.cache.ttl.sec.
func (r *Resolver) ID(ctx context.Context, topic, recordName string, s Schema) (id int, used Schema, err error) {
	k := idKey{typ: s.Type, text: s.Text}
	switch r.strategy {
	case TopicNameStrategy:
		k.topic = topic
	case RecordNameStrategy:
		k.record = recordName
	default:
		k.topic, k.record = topic, recordName
	}
	fast := true
	for {
		t := r.tables.Load()
		var e *entry
		var ok bool
		if fast {
			var v ptrVal
			v, ok = t.byPtr[k.ptr()]
			e = v.e
			if !ok || !slices.Equal(e.refs, s.References) {
				fast, ok = false, false
			}
		}
		if !ok {
			e, ok = t.byText[k]
			if ok && k.refs == "" && slices.Equal(e.refs, s.References) && len(t.byPtr) < maxAliases {
				r.alias(k, e)
			}
		}
		if ok && k.refs == "" && !slices.Equal(e.refs, s.References) {
			// Same text, other references: rare, so only this case pays for a
			// key naming them.
			k.refs = refsKey(s.References)
			continue
		}
		if !ok {
			n := &entry{done: make(chan struct{}), refs: s.References}
			if r.swap(k, nil, n) {
				r.resolve(ctx, k, n, topic, recordName, s, true)
				return n.id, n.used, n.err
			}
			continue // another caller got there first: check its references
		}
		select {
		case <-e.done:
		default:
			r.waiting.Add(1)
			select {
			case <-e.done:
				r.waiting.Add(-1)
			case <-ctx.Done():
				r.waiting.Add(-1)
				return 0, Schema{}, &Error{Op: "waiting for another caller's request", Err: ctx.Err()}
			}
		}
		if e.err == nil && !e.expires.IsZero() && !r.now().Before(e.expires) {
			n := &entry{done: make(chan struct{}), refs: s.References}
			if r.swap(k, e, n) {
				r.resolve(ctx, k, n, topic, recordName, s, false)
				return n.id, n.used, n.err
			}
			continue
		}
		if e.err != nil && e.canceled && ctx.Err() == nil {
			continue // the leader's own context ended it; ours has not: try ourselves
		}
		return e.id, e.used, e.err
	}
}

// swap replaces k's entry old (nil: none) with n (nil: delete), reporting whether
// old was still there. The aliases of old go with it.
func (r *Resolver) swap(k idKey, old, n *entry) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.tables.Load()
	if t.byText[k] != old {
		return false
	}
	c := &tables{byText: maps.Clone(t.byText), byPtr: t.byPtr}
	if n == nil {
		delete(c.byText, k)
	} else {
		c.byText[k] = n
	}
	if old != nil {
		c.byPtr = maps.Clone(t.byPtr)
		maps.DeleteFunc(c.byPtr, func(_ ptrKey, v ptrVal) bool { return v.e == old })
	}
	if n != nil && k.refs == "" && len(c.byPtr) < maxAliases {
		if old == nil {
			c.byPtr = maps.Clone(t.byPtr)
		}
		c.byPtr[k.ptr()] = ptrVal{text: k.text, e: n}
	}
	r.tables.Store(c)
	return true
}

// alias adds k's text address as a key of e, if e is still k's entry.
func (r *Resolver) alias(k idKey, e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.tables.Load()
	if t.byText[k] != e || len(t.byPtr) >= maxAliases {
		return
	}
	c := &tables{byText: t.byText, byPtr: maps.Clone(t.byPtr)}
	c.byPtr[k.ptr()] = ptrVal{text: k.text, e: e}
	r.tables.Store(c)
}

func refsKey(refs []Reference) string {
	var b strings.Builder
	for _, r := range refs {
		b.WriteString(r.Name)
		b.WriteByte(0)
		b.WriteString(r.Subject)
		b.WriteByte(0)
		b.WriteString(strconv.Itoa(r.Version))
		b.WriteByte(0)
	}
	return b.String()
}

// resolve asks the registry for e, publishes the answer and closes e.done. A
// failure is removed from the cache so that the next call asks again.
func (r *Resolver) resolve(ctx context.Context, k idKey, e *entry, topic, recordName string, s Schema, isNew bool) {
	defer close(e.done)
	// A new schema takes its place under max.schemas.per.subject before any
	// request, as Java's CachedSchemaRegistryClient checks before registering: a
	// subject past the limit then costs no request per record.
	subject, err := r.Subject(topic, recordName)
	reserved := isNew && err == nil // else ask fails on the subject, asking nothing
	if reserved && !r.reserve(subject) {
		e.err = fmt.Errorf("kprod: schema registry: more than %d schemas cached for subject %q (max.schemas.per.subject)", r.maxPer, subject)
		r.swap(k, e, nil)
		return
	}
	e.id, e.used, e.expires, e.err = r.ask(ctx, topic, recordName, s)
	e.canceled = e.err != nil && ctx.Err() != nil
	if e.err != nil {
		if reserved {
			r.release(subject)
		}
		r.swap(k, e, nil)
	}
}

// reserve adds one schema to subject's tally, false past max.schemas.per.subject.
func (r *Resolver) reserve(subject string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.perSubject[subject] >= r.maxPer {
		return false
	}
	r.perSubject[subject]++
	return true
}

// release takes back a reservation whose resolution failed (not cached).
func (r *Resolver) release(subject string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.perSubject[subject]--; r.perSubject[subject] <= 0 {
		delete(r.perSubject, subject)
	}
}

// ask makes the registry requests for one resolution, in Java's order.
func (r *Resolver) ask(ctx context.Context, topic, recordName string, s Schema) (int, Schema, time.Time, error) {
	subject, err := r.Subject(topic, recordName)
	if err != nil {
		return 0, Schema{}, time.Time{}, err
	}
	switch {
	case r.auto:
		id, err := r.c.register(ctx, subject, s, r.cfg.NormalizeSchemas)
		return id, s, time.Time{}, err
	case r.cfg.UseSchemaID > 0:
		if !ValidID(r.cfg.UseSchemaID) {
			return 0, Schema{}, time.Time{}, configErr("use.schema.id", strconv.Itoa(r.cfg.UseSchemaID), "schema ids are at most 2147483647")
		}
		used, err := r.c.schemaByID(ctx, r.cfg.UseSchemaID, subject)
		if err == nil && r.idStrict {
			err = r.compatible(ctx, used, s, readerInfo{prop: "id.compatibility.strict", subject: subject, id: r.cfg.UseSchemaID})
		}
		return r.cfg.UseSchemaID, used, time.Time{}, err
	case r.cfg.UseLatestVersion:
		id, version, used, err := r.c.latest(ctx, subject)
		if err == nil && r.strict {
			err = r.compatible(ctx, used, s, readerInfo{prop: "latest.compatibility.strict", subject: subject, id: id, version: version})
		}
		var expires time.Time
		if r.cfg.LatestCacheTTL > 0 {
			expires = r.now().Add(r.cfg.LatestCacheTTL)
		}
		return id, used, expires, err
	default:
		id, err := r.c.lookup(ctx, subject, s, r.cfg.NormalizeSchemas)
		return id, s, time.Time{}, err
	}
}
