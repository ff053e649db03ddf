package registry

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Java's RestService defaults: http.connect.timeout.ms and http.read.timeout.ms.
const (
	defaultConnectTimeout = 60 * time.Second
	defaultReadTimeout    = 60 * time.Second
)

// contentType is the registry's v1 media type, which Confluent's and Apicurio's
// ccompat API both accept.
const (
	contentType = "application/vnd.schemaregistry.v1+json"
	accept      = "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5"
)

// ErrClosed is returned by requests on a closed Client.
var ErrClosed = errors.New("kprod: schema registry client closed")

// Client is a schema registry client. It is safe for concurrent use.
type Client struct {
	urls    []baseURL
	auth    string // the Authorization header for every URL, "" when per URL or none
	headers http.Header
	http    *http.Client
	ownHTTP bool // http was built here: Close releases its connections

	next   atomic.Int32 // index of the URL to try first: the last that answered
	closed atomic.Bool

	byIDMu sync.RWMutex
	byID   map[int]Schema // guarded by byIDMu; an id's schema never changes
}

// baseURL is one schema.registry.url entry.
type baseURL struct {
	base string // scheme://host[:port][/prefix], no trailing slash, no user info
	auth string // Authorization from the URL's user info (basic.auth.credentials.source=URL)
}

// New checks cfg and returns a client; it does not contact the registry.
func New(cfg Config) (*Client, error) {
	if len(cfg.URLs) == 0 {
		return nil, configErr("schema.registry.url", "", "must list at least one URL")
	}
	// Java's default source is URL: credentials come from a URL's user info when it
	// has one. An empty source with basic.auth.user.info set means USER_INFO (Java
	// would silently ignore the credentials and meet a 401).
	src := strings.ToUpper(cfg.BasicAuthCredentialsSource)
	switch src {
	case "":
		src = "URL"
		if cfg.BasicAuthUserInfo != "" {
			src = "USER_INFO"
		}
	case "USER_INFO", "URL":
	case "SASL_INHERIT":
		return nil, configErr("basic.auth.credentials.source", cfg.BasicAuthCredentialsSource,
			"SASL_INHERIT is not supported: kprod does not hand the producer's SASL credentials to the registry; set USER_INFO with basic.auth.user.info")
	default:
		return nil, configErr("basic.auth.credentials.source", cfg.BasicAuthCredentialsSource, "must be USER_INFO or URL")
	}
	c := &Client{headers: http.Header{}}
	switch {
	case src == "USER_INFO":
		if !strings.Contains(cfg.BasicAuthUserInfo, ":") {
			return nil, configErr("basic.auth.user.info", "[hidden]", `must be "user:password" with basic.auth.credentials.source=USER_INFO`)
		}
		if cfg.BearerAuthToken != "" {
			return nil, configErr("bearer.auth.token", "[hidden]", "cannot be used with basic authentication")
		}
		c.auth = basic(cfg.BasicAuthUserInfo)
	case cfg.BearerAuthToken != "":
		c.auth = "Bearer " + cfg.BearerAuthToken
	}
	for _, raw := range cfg.URLs {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, configErr("schema.registry.url", redact(raw), "must be http://host:port or https://host:port, with an optional path")
		}
		b := baseURL{}
		if src == "URL" && u.User != nil {
			if c.auth != "" {
				return nil, configErr("bearer.auth.token", "[hidden]", "cannot be used with basic authentication from the URL "+redact(raw))
			}
			p, _ := u.User.Password()
			b.auth = basic(u.User.Username() + ":" + p)
		}
		u.User = nil
		b.base = strings.TrimRight(u.String(), "/")
		c.urls = append(c.urls, b)
	}
	for k, v := range cfg.RequestHeaders {
		c.headers.Set(k, v)
	}
	if cfg.Timeout < 0 {
		return nil, configErr("http.read.timeout.ms", cfg.Timeout.String(), "must not be negative")
	}
	if cfg.ConnectTimeout < 0 {
		return nil, configErr("http.connect.timeout.ms", cfg.ConnectTimeout.String(), "must not be negative")
	}
	c.http = cfg.HTTPClient
	if c.http == nil {
		read, connect := cmp.Or(cfg.Timeout, defaultReadTimeout), cmp.Or(cfg.ConnectTimeout, defaultConnectTimeout)
		t := &http.Transport{
			// Java's RestService uses no proxy unless one is configured; neither do we.
			DialContext:           (&net.Dialer{Timeout: connect}).DialContext,
			TLSHandshakeTimeout:   connect,
			ResponseHeaderTimeout: read,
			ForceAttemptHTTP2:     true,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		}
		if cfg.TLS != nil {
			t.TLSClientConfig = cfg.TLS.Clone()
		}
		// The whole exchange, a slowly dripped body included, is bounded too.
		c.http = &http.Client{Transport: t, Timeout: connect + read}
		c.ownHTTP = true
	}
	return c, nil
}

func basic(userInfo string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userInfo))
}

// redact drops a URL's password so that an error never shows it.
func redact(raw string) string {
	if u, err := url.Parse(strings.TrimSpace(raw)); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	return raw
}

// Close releases the client's idle connections. Requests after Close fail with
// ErrClosed. The client starts no goroutine, so nothing is left running.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.ownHTTP {
		c.http.CloseIdleConnections()
	}
	return nil
}

// do sends one request (path already escaped, with any query) with an optional
// JSON body, trying the URLs in turn from the last one that answered: a connection
// error or a 5xx moves to the next, as Java's RestService fails over its URL list.
// On 2xx it decodes the answer into out.
func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	if c.closed.Load() {
		return ErrClosed
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("kprod: schema registry: encoding %s %s: %w", method, path, err)
		}
	}
	op := method + " " + path
	var last *Error
	start := int(c.next.Load())
	for i := range c.urls {
		n := (start + i) % len(c.urls)
		u := c.urls[n]
		status, data, err := c.send(ctx, method, u, path, payload)
		if err != nil {
			if ctx.Err() != nil {
				return &Error{Op: op, URL: u.base, Err: ctx.Err()}
			}
			last = &Error{Op: op, URL: u.base, Err: err}
			continue
		}
		if status >= 500 {
			last = responseError(op, u.base, status, data)
			continue
		}
		c.next.Store(int32(n))
		if status < 200 || status > 299 {
			return responseError(op, u.base, status, data)
		}
		if out == nil {
			return nil
		}
		if err := decodeBody(data, out); err != nil {
			return &Error{Op: op, URL: u.base, Status: status, Message: "undecodable answer", Err: err}
		}
		if v, ok := out.(interface{ check() error }); ok {
			if err := v.check(); err != nil {
				return &Error{Op: op, URL: u.base, Status: status, Message: "undecodable answer", Err: err}
			}
		}
		return nil
	}
	return last
}

// Body limits: a registry answer is a schema (Protobuf files with many imports run
// to a few hundred KB); anything past maxBody is refused rather than buffered.
const (
	maxBody      = 8 << 20
	maxErrorBody = 64 << 10
)

var errBodyTooLarge = errors.New("answer larger than 8 MiB")

// send makes one HTTP exchange with one URL and reads the (bounded) answer.
func (c *Client) send(ctx context.Context, method string, u baseURL, path string, payload []byte) (int, []byte, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range c.headers {
		req.Header[k] = v
	}
	req.Header.Set("Accept", accept)
	if payload != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if u.auth != "" {
		req.Header.Set("Authorization", u.auth)
	} else if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	limit := int64(maxBody)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = maxErrorBody
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return 0, nil, err
	}
	if int64(len(data)) > limit {
		if limit == maxBody {
			return 0, nil, errBodyTooLarge
		}
		data = data[:limit] // an error's message: the start is enough
	}
	return resp.StatusCode, data, nil
}

// errorBody is the registry's error answer.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// maxMessage bounds the message kept from an error answer, so that a hostile
// registry cannot make every error string megabytes long.
const maxMessage = 512

// responseError builds the Error of a non-2xx answer, whatever its body holds.
func responseError(op, base string, status int, data []byte) *Error {
	e := &Error{Op: op, URL: base, Status: status}
	var b errorBody
	if json.Unmarshal(data, &b) == nil {
		e.Code, e.Message = b.ErrorCode, b.Message
	} else {
		e.Message = strings.ToValidUTF8(string(data), "?")
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if len(e.Message) > maxMessage {
		e.Message = strings.ToValidUTF8(e.Message[:maxMessage], "") + "..."
	}
	return e
}

// decodeBody decodes a 2xx answer.
func decodeBody(data []byte, out any) error {
	return json.Unmarshal(data, out)
}

// schemaBody is the registry's JSON for a schema: the register and lookup request,
// and the by-id, by-version and lookup answers.
type schemaBody struct {
	Subject    string          `json:"subject,omitempty"`
	Version    int             `json:"version,omitempty"`
	ID         int             `json:"id,omitempty"`
	Schema     string          `json:"schema"`
	SchemaType string          `json:"schemaType,omitempty"`
	References []referenceBody `json:"references,omitempty"`
}

// idBody is an answer that must carry the schema's id (register, lookup, latest).
type idBody schemaBody

// check refuses an id the wire format's 4 bytes cannot hold (or none): written
// truncated it would name another schema.
func (b *idBody) check() error {
	if !ValidID(b.ID) {
		return fmt.Errorf("schema id %d outside 1..%d", b.ID, math.MaxInt32)
	}
	return nil
}

// ValidID reports whether id can be a registry schema id: 1..MaxInt32, what the
// wire format's signed 4-byte field holds (Java's int).
func ValidID(id int) bool {
	return id >= 1 && id <= math.MaxInt32
}

type referenceBody struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

func toBody(s Schema) schemaBody {
	b := schemaBody{Schema: s.Text, SchemaType: strings.ToUpper(s.Type)}
	if b.SchemaType == "AVRO" {
		b.SchemaType = "" // Java omits it for Avro; old registries know no other key
	}
	for _, r := range s.References {
		b.References = append(b.References, referenceBody(r))
	}
	return b
}

func (b *schemaBody) schema() Schema {
	s := Schema{Type: b.SchemaType, Text: b.Schema}
	if s.Type == "" {
		s.Type = "AVRO"
	}
	for _, r := range b.References {
		s.References = append(s.References, Reference(r))
	}
	return s
}

// maxByID bounds the by-id cache; past it, answers are no longer remembered.
const maxByID = 10000

// SchemaByID returns the schema registered under id (GET /schemas/ids/{id}). An id
// always names the same schema, so answers are cached.
func (c *Client) SchemaByID(ctx context.Context, id int) (Schema, error) {
	c.byIDMu.RLock()
	s, ok := c.byID[id]
	c.byIDMu.RUnlock()
	if ok {
		return s, nil
	}
	s, err := c.schemaByID(ctx, id, "")
	if err != nil {
		return Schema{}, err
	}
	c.byIDMu.Lock()
	if c.byID == nil {
		c.byID = map[int]Schema{}
	}
	if len(c.byID) < maxByID {
		c.byID[id] = s
	}
	c.byIDMu.Unlock()
	return s, nil
}

func (c *Client) schemaByID(ctx context.Context, id int, subject string) (Schema, error) {
	path := fmt.Sprintf("/schemas/ids/%d", id)
	if subject != "" {
		path += "?subject=" + url.QueryEscape(subject)
	}
	var b schemaBody
	if err := c.do(ctx, http.MethodGet, path, nil, &b); err != nil {
		return Schema{}, err
	}
	return b.schema(), nil
}

// register registers s under subject (POST /subjects/{subject}/versions) and
// returns its id; registering a schema already there returns its id.
func (c *Client) register(ctx context.Context, subject string, s Schema, normalize bool) (int, error) {
	path := "/subjects/" + url.PathEscape(subject) + "/versions" + normalizeQuery(normalize)
	var b idBody
	if err := c.do(ctx, http.MethodPost, path, toBody(s), &b); err != nil {
		return 0, err
	}
	return b.ID, nil
}

// lookup finds s among subject's versions (POST /subjects/{subject}).
func (c *Client) lookup(ctx context.Context, subject string, s Schema, normalize bool) (int, error) {
	path := "/subjects/" + url.PathEscape(subject) + normalizeQuery(normalize)
	var b idBody
	if err := c.do(ctx, http.MethodPost, path, toBody(s), &b); err != nil {
		return 0, err
	}
	return b.ID, nil
}

// latest returns subject's latest version (GET /subjects/{subject}/versions/latest).
func (c *Client) latest(ctx context.Context, subject string) (id, version int, s Schema, err error) {
	var b idBody
	if err := c.do(ctx, http.MethodGet, "/subjects/"+url.PathEscape(subject)+"/versions/latest", nil, &b); err != nil {
		return 0, 0, Schema{}, err
	}
	return b.ID, b.Version, (*schemaBody)(&b).schema(), nil
}

// schemaByVersion returns the schema registered under subject at version (GET
// /subjects/{subject}/versions/{version}): what a reference names.
func (c *Client) schemaByVersion(ctx context.Context, subject string, version int) (Schema, error) {
	var b schemaBody
	v := "latest" // Confluent's -1: a reference that follows the subject
	if version > 0 {
		v = strconv.Itoa(version)
	}
	path := "/subjects/" + url.PathEscape(subject) + "/versions/" + v
	if err := c.do(ctx, http.MethodGet, path, nil, &b); err != nil {
		return Schema{}, err
	}
	return b.schema(), nil
}

func normalizeQuery(normalize bool) string {
	if normalize {
		return "?normalize=true"
	}
	return ""
}

// configErr is an invalid property, worded as the root package's ConfigError.
func configErr(prop, value, reason string) error {
	return &ConfigError{Property: prop, Value: value, Reason: reason}
}

// ConfigError is a registry property that cannot be used. Value never holds a secret.
type ConfigError struct {
	// Property is the property's name, Value its value (never a secret), Reason what is
	// wrong with it.
	Property, Value, Reason string
}

// Error names the property, its value and the reason.
func (e *ConfigError) Error() string {
	return "kprod: invalid config " + e.Property + "=" + e.Value + ": " + e.Reason
}
