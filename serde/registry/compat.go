package registry

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// CompatibilityCheck reports whether data written with writer (the caller's
// schema) can be read with reader (the registry's: the subject's latest, or
// use.schema.id's), as Java's ParsedSchema.isBackwardCompatible does for
// latest.compatibility.strict and id.compatibility.strict. It returns nil when it
// can, else an error naming the first incompatibility (a path and what changed).
// load fetches the schemas either one references (JSON Schema "$ref"s to other
// subjects, Protobuf imports); it is bound to the request's context.
type CompatibilityCheck func(reader, writer Schema, load ReferenceLoader) error

// ReferenceLoader returns the schema a reference names: the one registered under
// ref.Subject at ref.Version (the subject's latest when Version is -1 or 0).
type ReferenceLoader func(ref Reference) (Schema, error)

// IncompatibleError is a failed latest.compatibility.strict or
// id.compatibility.strict check: the registry's schema, which the record would be
// written under, cannot read what the caller's schema writes. It Is ErrIncompatible,
// as the registry's own 409 answer is, and unwraps to the language's report.
type IncompatibleError struct {
	// Property is the check's property: latest.compatibility.strict or
	// id.compatibility.strict.
	Property string
	// Subject is the subject the record goes under.
	Subject string
	// ReaderID is the registry schema's id; ReaderVersion its version under Subject
	// (0 when unknown: use.schema.id names an id, not a version).
	ReaderID, ReaderVersion int
	// Err is the schema language's report, naming the first incompatibility.
	Err error
}

// Error names the registry's schema, the first incompatibility and how to skip the check.
func (e *IncompatibleError) Error() string {
	var b strings.Builder
	b.WriteString("kprod: schema registry: the registry's schema (id ")
	b.WriteString(strconv.Itoa(e.ReaderID))
	if e.ReaderVersion > 0 {
		b.WriteString(", version ")
		b.WriteString(strconv.Itoa(e.ReaderVersion))
	}
	b.WriteString(" of subject ")
	b.WriteString(strconv.Quote(e.Subject))
	b.WriteString(") cannot read data written with the serializer's schema (")
	b.WriteString(e.Property)
	b.WriteString("=true; set it to false to skip this check): ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is matches ErrIncompatible.
func (e *IncompatibleError) Is(target error) bool { return target == ErrIncompatible }

// Unwrap returns the language's report.
func (e *IncompatibleError) Unwrap() error { return e.Err }

// readerInfo names the registry schema a check is about, for IncompatibleError.
type readerInfo struct {
	prop, subject string
	id, version   int
}

// compatPair keys a passed check: the two schemas, texts and references.
type compatPair struct {
	readerType, readerText, readerRefs string
	writerType, writerText, writerRefs string
}

// compatible runs the serializer's check that reader can read writer's data. A
// pass is remembered per schema pair, so a refreshed latest (latest.cache.ttl.sec)
// or another subject with the same schemas costs no second check; a failure is
// not, so that a registry fixed in the meantime is seen.
func (r *Resolver) compatible(ctx context.Context, reader, writer Schema, info readerInfo) error {
	f := r.check.Load()
	if f == nil || *f == nil {
		return nil
	}
	k := compatPair{reader.Type, reader.Text, refsKey(reader.References), writer.Type, writer.Text, refsKey(writer.References)}
	if _, ok := r.passed.Load(k); ok {
		return nil
	}
	load := func(ref Reference) (Schema, error) { return r.c.schemaByVersion(ctx, ref.Subject, ref.Version) }
	if err := (*f)(reader, writer, load); err != nil {
		var re *Error
		if errors.As(err, &re) {
			return err // the registry failed to give a reference: not a verdict
		}
		return &IncompatibleError{Property: info.prop, Subject: info.subject, ReaderID: info.id, ReaderVersion: info.version, Err: err}
	}
	r.passed.Store(k, struct{}{})
	return nil
}
