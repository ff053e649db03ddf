package registry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/kprod-io/kprod/serde/registry"
)

const orderSchema = `{"type":"record","name":"Order","namespace":"com.example","fields":[{"name":"id","type":"long"}]}`

// fake is franz-go's in-process registry with a count of requests per method and path.
type fake struct {
	*srfake.Registry
	mu    sync.Mutex
	count map[string]int
}

func newFake(t *testing.T, opts ...srfake.Option) *fake {
	f := &fake{Registry: srfake.New(opts...), count: map[string]int{}}
	t.Cleanup(f.Close)
	f.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		f.mu.Lock()
		f.count[r.Method+" "+r.URL.Path]++
		f.mu.Unlock()
		return false
	})
	return f
}

func (f *fake) requests(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count[key]
}

func client(t *testing.T, cfg registry.Config) *registry.Client {
	t.Helper()
	c, err := registry.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ptr[T any](v T) *T { return &v }

func TestResolverRegistersOncePerSchema(t *testing.T) {
	f := newFake(t)
	r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}), registry.SerdeConfig{}, false)
	s := registry.Schema{Text: orderSchema}
	var first int
	for i := range 100 {
		id, used, err := r.ID(context.Background(), "orders", "com.example.Order", s)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = id
		}
		if id != first || used.Text != orderSchema {
			t.Fatalf("call %d: id %d schema %q, want %d and the given text", i, id, used.Text, first)
		}
	}
	if n := f.requests("POST /subjects/orders-value/versions"); n != 1 {
		t.Fatalf("registered %d times, want once", n)
	}
	got, ok := f.GetSchema("orders-value", 1)
	if !ok || got.ID != first || got.Schema.Schema != orderSchema {
		t.Fatalf("registry holds %+v, want id %d with the exact text", got, first)
	}
	// A second schema is a second request; the first stays cached.
	other := registry.Schema{Text: strings.Replace(orderSchema, `"long"`, `"int"`, 1)}
	if _, _, err := r.ID(context.Background(), "orders", "com.example.Order", other); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ID(context.Background(), "orders", "com.example.Order", s); err != nil {
		t.Fatal(err)
	}
	if n := f.requests("POST /subjects/orders-value/versions"); n != 2 {
		t.Fatalf("registered %d times, want 2", n)
	}
}

func TestResolverCachedIDAllocatesNothing(t *testing.T) {
	f := newFake(t)
	r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}), registry.SerdeConfig{}, false)
	s := registry.Schema{Text: orderSchema, References: []registry.Reference{{Name: "a", Subject: "a-value", Version: 1}}}
	f.SeedSchema("a-value", 1, 77, sr.Schema{Schema: `"string"`})
	ctx := context.Background()
	if _, _, err := r.ID(ctx, "orders", "com.example.Order", s); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() {
		if _, _, err := r.ID(ctx, "orders", "com.example.Order", s); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("cached ID allocates %v times", n)
	}
}

func TestResolverConcurrentFirstUseMakesOneRequest(t *testing.T) {
	f := newFake(t)
	release := make(chan struct{})
	var entered atomic.Int32
	f.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost {
			entered.Add(1)
			<-release
		}
		return false
	})
	r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}), registry.SerdeConfig{}, false)
	const n = 16
	ids := make(chan int, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			id, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: orderSchema})
			ids <- id
			errs <- err
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for entered.Load() != 1 || r.Waiting() != n-1 {
		if time.Now().After(deadline) || entered.Load() > 1 {
			close(release)
			t.Fatalf("%d requests in flight, %d callers waiting; want 1 and %d", entered.Load(), r.Waiting(), n-1)
		}
		time.Sleep(time.Millisecond) // polls observable state: one request in flight, the rest waiting
	}
	close(release)
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	first := -1
	for id := range ids {
		if first == -1 {
			first = id
		}
		if id != first || id == 0 {
			t.Fatalf("ids differ: %d and %d", first, id)
		}
	}
	if got := entered.Load(); got != 1 {
		t.Fatalf("%d register requests, want 1", got)
	}
}

func TestResolverFailureIsNotCached(t *testing.T) {
	f := newFake(t)
	var fail atomic.Bool
	fail.Store(true)
	f.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}), registry.SerdeConfig{}, false)
	_, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: orderSchema})
	var re *registry.Error
	if !errors.Is(err, registry.ErrTimeout) || !errors.As(err, &re) || !re.Retriable() || re.Status != 503 {
		t.Fatalf("got %v, want a retriable 503 ErrTimeout", err)
	}
	fail.Store(false)
	if id, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: orderSchema}); err != nil || id == 0 {
		t.Fatalf("after recovery: id %d, %v", id, err)
	}
}

func TestResolverSubjects(t *testing.T) {
	for _, tc := range []struct {
		strategy registry.Strategy
		isKey    bool
		record   string
		want     string
	}{
		{registry.TopicNameStrategy, false, "com.example.Order", "orders-value"},
		{registry.TopicNameStrategy, true, "", "orders-key"},
		{registry.RecordNameStrategy, false, "com.example.Order", "com.example.Order"},
		{registry.RecordNameStrategy, true, "com.example.Order", "com.example.Order"},
		{registry.TopicRecordNameStrategy, false, "com.example.Order", "orders-com.example.Order"},
		{registry.TopicRecordNameStrategy, true, "com.example.Order", "orders-com.example.Order"},
	} {
		f := newFake(t)
		cfg := registry.SerdeConfig{KeySubjectNameStrategy: tc.strategy, ValueSubjectNameStrategy: tc.strategy}
		r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}), cfg, tc.isKey)
		if _, _, err := r.ID(context.Background(), "orders", tc.record, registry.Schema{Text: orderSchema}); err != nil {
			t.Fatalf("%v key=%v: %v", tc.strategy, tc.isKey, err)
		}
		if !f.SubjectExists(tc.want) {
			t.Fatalf("%v key=%v: subject %q not registered", tc.strategy, tc.isKey, tc.want)
		}
	}
	r := registry.NewResolver(client(t, registry.Config{URLs: []string{"http://127.0.0.1:1"}}),
		registry.SerdeConfig{ValueSubjectNameStrategy: registry.RecordNameStrategy}, false)
	if _, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: `"string"`}); err == nil ||
		!strings.Contains(err.Error(), "RecordNameStrategy requires a named record") {
		t.Fatalf("unnamed schema under RecordNameStrategy: %v", err)
	}
}

// TestResolverOrder checks Java's order: auto-register, else use.schema.id, else
// the latest version, else a lookup.
func TestResolverOrder(t *testing.T) {
	latest := `{"type":"record","name":"Order","namespace":"com.example","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]}`
	for _, tc := range []struct {
		name    string
		cfg     registry.SerdeConfig
		request string
		id      int
		used    string
	}{
		{"auto wins over use.schema.id", registry.SerdeConfig{UseSchemaID: 12, UseLatestVersion: true}, "POST /subjects/orders-value/versions", 11, orderSchema},
		{"use.schema.id", registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseSchemaID: 12, UseLatestVersion: true}, "GET /schemas/ids/12", 12, latest},
		{"use.latest.version", registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseLatestVersion: true}, "GET /subjects/orders-value/versions/latest", 12, latest},
		{"lookup", registry.SerdeConfig{AutoRegisterSchemas: ptr(false)}, "POST /subjects/orders-value", 11, orderSchema},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.SeedSchema("orders-value", 1, 11, sr.Schema{Schema: orderSchema})
			f.SeedSchema("orders-value", 2, 12, sr.Schema{Schema: latest})
			r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}), tc.cfg, false)
			id, used, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: orderSchema})
			if err != nil {
				t.Fatal(err)
			}
			if id != tc.id || used.Text != tc.used || (used.Type != "AVRO" && used.Type != "") {
				t.Fatalf("id %d used %+v, want %d and %s", id, used, tc.id, tc.used)
			}
			if f.requests(tc.request) != 1 {
				t.Fatalf("requests %v, want one %s", f.count, tc.request)
			}
		})
	}
}

func TestResolverCompatibilityCheck(t *testing.T) {
	f := newFake(t)
	f.SeedSchema("orders-value", 1, 11, sr.Schema{Schema: orderSchema})
	check := func(reader, writer registry.Schema, _ registry.ReferenceLoader) error {
		return errors.New("field id: no")
	}
	for _, tc := range []struct {
		cfg     registry.SerdeConfig
		fail    string // the property named, "" for no failure
		version int
	}{
		{registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseLatestVersion: true}, "latest.compatibility.strict", 1},
		{registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseLatestVersion: true, LatestCompatibilityStrict: ptr(false)}, "", 0},
		{registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseSchemaID: 11}, "id.compatibility.strict", 0},
		{registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseSchemaID: 11, IDCompatibilityStrict: ptr(false)}, "", 0},
	} {
		r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}), tc.cfg, false)
		r.SetCompatibilityCheck(check)
		_, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: `"string"`})
		if tc.fail == "" {
			if err != nil {
				t.Fatalf("%+v: %v", tc.cfg, err)
			}
			continue
		}
		var ie *registry.IncompatibleError
		if !errors.Is(err, registry.ErrIncompatible) || !errors.As(err, &ie) || ie.Property != tc.fail ||
			ie.ReaderID != 11 || ie.ReaderVersion != tc.version || ie.Subject != "orders-value" ||
			!strings.Contains(err.Error(), "field id: no") || !strings.Contains(err.Error(), tc.fail+"=true") {
			t.Fatalf("%+v: %v", tc.cfg, err)
		}
	}
}

// A check that passed is not run again for the same two schemas, though the
// latest version is asked again after latest.cache.ttl.sec; one that failed is run
// again on the next record, so that a registry fixed meanwhile is seen.
func TestResolverCompatibilityCheckCached(t *testing.T) {
	f := newFake(t)
	f.SeedSchema("orders-value", 1, 11, sr.Schema{Schema: orderSchema})
	r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}),
		registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseLatestVersion: true, LatestCacheTTL: time.Minute}, false)
	now := time.Unix(1000, 0)
	r.SetNow(func() time.Time { return now })
	var checks atomic.Int32
	fail := atomic.Bool{}
	fail.Store(true)
	r.SetCompatibilityCheck(func(reader, writer registry.Schema, _ registry.ReferenceLoader) error {
		checks.Add(1)
		if fail.Load() {
			return errors.New("no")
		}
		return nil
	})
	id := func() error {
		_, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: `"string"`})
		return err
	}
	if err := id(); err == nil {
		t.Fatal("want a failed check")
	}
	fail.Store(false)
	for range 3 {
		if err := id(); err != nil {
			t.Fatal(err)
		}
		now = now.Add(2 * time.Minute) // past the TTL: the latest is asked again
	}
	if n := checks.Load(); n != 2 {
		t.Fatalf("%d checks, want 2 (the failure, then one pass)", n)
	}
	if n := f.requests("GET /subjects/orders-value/versions/latest"); n != 4 {
		t.Fatalf("%d latest requests, want 4", n)
	}
}

// The check's loader fetches the schemas a reference names, from the registry, under
// the request's context; a failure to load is the registry's, not a verdict.
func TestResolverCompatibilityCheckLoadsReferences(t *testing.T) {
	f := newFake(t)
	f.SeedSchema("address", 3, 21, sr.Schema{Schema: `{"type":"string"}`, Type: sr.TypeJSON})
	f.SeedSchema("orders-value", 1, 11, sr.Schema{Schema: `{"$ref":"address.json"}`, Type: sr.TypeJSON,
		References: []sr.SchemaReference{{Name: "address.json", Subject: "address", Version: 3}}})
	r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}),
		registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseLatestVersion: true}, false)
	var got []string
	r.SetCompatibilityCheck(func(reader, writer registry.Schema, load registry.ReferenceLoader) error {
		for _, ref := range reader.References {
			s, err := load(ref)
			if err != nil {
				return err
			}
			got = append(got, ref.Name+"="+s.Text)
		}
		_, err := load(registry.Reference{Name: "x", Subject: "missing", Version: 1})
		return err
	})
	_, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Type: "JSON", Text: `{}`})
	if len(got) != 1 || got[0] != `address.json={"type":"string"}` {
		t.Fatalf("loaded %q", got)
	}
	var ie *registry.IncompatibleError
	if !errors.Is(err, registry.ErrUnknownSubject) || errors.As(err, &ie) {
		t.Fatalf("a reference the registry lacks: %v, want the registry's 404 and no verdict", err)
	}
}

func TestResolverLatestCacheTTL(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Minute} {
		f := newFake(t)
		f.SeedSchema("orders-value", 1, 11, sr.Schema{Schema: orderSchema})
		r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}),
			registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseLatestVersion: true, LatestCacheTTL: ttl}, false)
		now := time.Unix(1000, 0)
		r.SetNow(func() time.Time { return now })
		get := func(wantID int) {
			t.Helper()
			id, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: orderSchema})
			if err != nil || id != wantID {
				t.Fatalf("ttl %v: id %d, %v; want %d", ttl, id, err, wantID)
			}
		}
		get(11)
		f.SeedSchema("orders-value", 2, 12, sr.Schema{Schema: `"string"`})
		now = now.Add(59 * time.Second)
		get(11)
		now = now.Add(time.Second)
		if ttl == 0 {
			get(11) // latest.cache.ttl.sec=-1: cached for ever
		} else {
			get(12)
			get(12)
		}
		want := 1
		if ttl != 0 {
			want = 2
		}
		if n := f.requests("GET /subjects/orders-value/versions/latest"); n != want {
			t.Fatalf("ttl %v: %d latest requests, want %d", ttl, n, want)
		}
	}
}

func TestResolverMaxSchemasPerSubject(t *testing.T) {
	f := newFake(t)
	r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}), registry.SerdeConfig{MaxSchemasPerSubject: 2}, false)
	for i, text := range []string{`"string"`, `"int"`, `"long"`, `"long"`, `"long"`} {
		_, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: text})
		if (i < 2) != (err == nil) {
			t.Fatalf("schema %d: %v", i, err)
		}
		if err != nil && !strings.Contains(err.Error(), "max.schemas.per.subject") {
			t.Fatalf("schema %d: %v", i, err)
		}
	}
	// As Java, the limit is checked before registering: records of a schema past
	// it make no request each.
	if n := f.requests("POST /subjects/orders-value/versions"); n != 2 {
		t.Fatalf("%d register requests, want 2 (none past the limit)", n)
	}
	// A failed request does not use up a place.
	r = registry.NewResolver(client(t, registry.Config{URLs: []string{"http://127.0.0.1:1"}}), registry.SerdeConfig{MaxSchemasPerSubject: 1}, false)
	for range 2 {
		_, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: `"string"`})
		if err == nil || strings.Contains(err.Error(), "max.schemas.per.subject") {
			t.Fatalf("registry down: %v", err)
		}
	}
}

func TestAppendHeader(t *testing.T) {
	got := registry.AppendHeader([]byte{9}, 0x01020304)
	if string(got) != "\x09\x00\x01\x02\x03\x04" {
		t.Fatalf("% x", got)
	}
}

func TestNormalizeQuery(t *testing.T) {
	for _, normalize := range []bool{false, true} {
		for _, auto := range []bool{false, true} {
			f := newFake(t)
			f.SeedSchema("orders-value", 1, 11, sr.Schema{Schema: orderSchema})
			var query atomic.Value
			f.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
				query.Store(r.URL.RawQuery)
				return false
			})
			r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}),
				registry.SerdeConfig{NormalizeSchemas: normalize, AutoRegisterSchemas: &auto}, false)
			if _, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: orderSchema}); err != nil {
				t.Fatal(err)
			}
			if got := query.Load().(string) == "normalize=true"; got != normalize {
				t.Fatalf("normalize %v auto %v: query %q", normalize, auto, query.Load())
			}
		}
	}
}

// TestResolverLeaderCancelled: when the caller whose request others wait on gives up
// (its ctx ends), the waiters do not inherit its cancellation: one of them asks again.
func TestResolverLeaderCancelled(t *testing.T) {
	f := newFake(t)
	release := make(chan struct{})
	var posts atomic.Int32
	f.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && posts.Add(1) == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		return false
	})
	defer close(release)
	r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}), registry.SerdeConfig{}, false)
	ctx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, _, err := r.ID(ctx, "orders", "", registry.Schema{Text: orderSchema})
		leaderErr <- err
	}()
	for posts.Load() != 1 {
		time.Sleep(time.Millisecond) // polls: the leader's request is in flight
	}
	waiter := make(chan error, 1)
	go func() {
		id, _, err := r.ID(context.Background(), "orders", "", registry.Schema{Text: orderSchema})
		if err == nil && id == 0 {
			err = errors.New("id 0")
		}
		waiter <- err
	}()
	for r.Waiting() != 1 {
		time.Sleep(time.Millisecond) // polls: the second caller waits on the first
	}
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v", err)
	}
	if err := <-waiter; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if n := posts.Load(); n != 2 {
		t.Fatalf("%d register requests, want 2", n)
	}
}

func BenchmarkResolverCachedID(b *testing.B) {
	for _, size := range []int{1, 40} {
		fields := make([]string, size)
		for i := range fields {
			fields[i] = fmt.Sprintf(`{"name":"field%d","type":["null","string"],"default":null}`, i)
		}
		text := `{"type":"record","name":"Order","namespace":"com.example","fields":[` + strings.Join(fields, ",") + `]}`
		b.Run(fmt.Sprintf("schema=%dB", len(text)), func(b *testing.B) { benchCachedID(b, text) })
	}
}

func benchCachedID(b *testing.B, text string) {
	f := srfake.New()
	defer f.Close()
	c, _ := registry.New(registry.Config{URLs: []string{f.URL()}})
	defer c.Close()
	r := registry.NewResolver(c, registry.SerdeConfig{}, false)
	s := registry.Schema{Text: text}
	ctx := context.Background()
	if _, _, err := r.ID(ctx, "orders", "com.example.Order", s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := r.ID(ctx, "orders", "com.example.Order", s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestResolverEqualTextsShareAnEntry: the cache is by text, whatever string holds it
// (the fast path keys by address, and must neither miss nor confuse texts).
func TestResolverEqualTextsShareAnEntry(t *testing.T) {
	f := newFake(t)
	r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}), registry.SerdeConfig{}, false)
	ctx := context.Background()
	want, _, err := r.ID(ctx, "orders", "", registry.Schema{Text: orderSchema})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := r.ID(ctx, "orders", "", registry.Schema{Text: `"string"`})
	if err != nil || other == want {
		t.Fatalf("second schema: %d %v", other, err)
	}
	for i := range 5000 { // past the alias bound
		text := orderSchema
		if i%2 == 1 {
			text = `"string"`
		}
		id, used, err := r.ID(ctx, "orders", "", registry.Schema{Text: strings.Clone(text)})
		exp := want
		if i%2 == 1 {
			exp = other
		}
		if err != nil || id != exp || used.Text != text {
			t.Fatalf("copy %d: id %d (%q) %v, want %d", i, id, used.Text, err, exp)
		}
	}
	if n := f.requests("POST /subjects/orders-value/versions"); n != 2 {
		t.Fatalf("%d register requests, want 2", n)
	}
}
